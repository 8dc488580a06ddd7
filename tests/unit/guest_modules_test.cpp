// A stock kernel's modules in the guest (guest_modules.hpp) and in the initramfs (vm_image.hpp).
#include <gtest/gtest.h>

#include "guest/guest_modules.hpp"
#include "sandbox/microvm/vm_image.hpp"

namespace ignite::guest {
namespace {

TEST(GuestModules, a_modules_name_drops_its_load_order_and_suffix_and_reads_dashes_as_underscores) {
  EXPECT_EQ(module_name("02-virtio_mmio.ko"), "virtio_mmio");
  EXPECT_EQ(module_name("07-virtio-rng.ko"), "virtio_rng");
  EXPECT_EQ(module_name("012-virtio_net.ko"), "virtio_net") << "numbered past 99";
  EXPECT_EQ(module_name("overlay.ko"), "overlay");
  EXPECT_EQ(module_name("net-failover.ko"), "net_failover") << "a dash after letters is the name's";
}

TEST(GuestModules, only_the_modules_own_parameters_are_taken_from_the_command_line) {
  const std::string cmdline =
      "console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 quiet virtio-mmio.device=512@0xfeb00c00:11 "
      "virtio_mmio_x.y=1 virtio_mmio.=bad virtio_mmio.force_legacy=0 ignite.share=disks\n";
  EXPECT_EQ(module_params("virtio_mmio", cmdline),
            "device=512@0xfeb00e00:12 device=512@0xfeb00c00:11 force_legacy=0");
  EXPECT_EQ(module_params("virtio-mmio", cmdline), module_params("virtio_mmio", cmdline));
  EXPECT_EQ(module_params("overlay", cmdline), "");
  EXPECT_EQ(module_params("virtio", cmdline), "") << "a longer module's prefix is not its";
}

TEST(GuestModules, loading_from_a_dir_that_is_not_there_does_nothing) {
  EXPECT_TRUE(load_modules("/nonexistent-ignite-modules", "").empty());
}

TEST(GuestModules, the_initramfs_carries_the_modules_under_modules_in_order_and_none_without_them) {
  const std::string plain = sandbox::microvm::agent_initramfs("agent");
  EXPECT_EQ(plain.find("modules"), std::string::npos);
  const std::string with =
      sandbox::microvm::agent_initramfs("agent", {{"00-virtio_ring.ko", "RING"}, {"01-virtio.ko", "VIRTIO"}});
  const auto dir = with.find(std::string("modules") + '\0');
  const auto first = with.find(std::string("modules/00-virtio_ring.ko") + '\0');
  const auto second = with.find(std::string("modules/01-virtio.ko") + '\0');
  ASSERT_NE(dir, std::string::npos);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(dir, first);
  EXPECT_LT(first, second);
  EXPECT_NE(with.find("RING", first), std::string::npos);
  EXPECT_LT(with.find("TRAILER!!!"), std::string::npos);
  EXPECT_GT(with.find("TRAILER!!!"), second);
}

}  // namespace
}  // namespace ignite::guest
