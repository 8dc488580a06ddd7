// validate(SandboxSpec): limits the kernel would refuse are refused first, with a clear message.
#include <gtest/gtest.h>

#include "core/spec.hpp"

namespace ignite {
namespace {

SandboxSpec with_cpu(double cores) {
  SandboxSpec spec;
  spec.argv = {"/bin/true"};
  spec.limits.cpu_cores = cores;
  return spec;
}

// Finding 25 of issue 9: a quota under 1 ms per 100 ms reached the cgroup and failed there.
TEST(SpecValidate, cpu_limits_below_the_kernels_smallest_quota_are_refused) {
  Limits ceilings;
  ceilings.cpu_cores = 8;
  EXPECT_TRUE(validate(with_cpu(0.01), ceilings));
  EXPECT_TRUE(validate(with_cpu(8), ceilings));
  for (double bad : {0.001, 0.0099, 0.0, -1.0, 8.5}) {
    auto r = validate(with_cpu(bad), ceilings);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message.find("(0.01 to 8 cores; the kernel's smallest CPU quota is 1 ms "
                                     "per 100 ms)"),
              std::string::npos)
        << r.error().message;
  }
  EXPECT_EQ(validate(with_cpu(0.001), ceilings).error().message,
            "cpu limit 0.001 is out of range (0.01 to 8 cores; the kernel's smallest CPU quota is "
            "1 ms per 100 ms)");
}

}  // namespace
}  // namespace ignite
