// Ignite's MCP tools over a Runner: run_code (ad-hoc code, the fields of POST /v1/execute),
// run_service (a service by name, as POST /services/:name/execute), list_runtimes,
// list_services. Requests are decoded by the same decoders as HTTP and NATS (api/requests) and
// run through the same runner (admission, limits, metrics, cancellation).
#pragma once
#include <functional>
#include <vector>

#include "mcp/session.hpp"
#include "runner/runner.hpp"
#include "runner/service_index.hpp"
#include "runtime/catalog.hpp"

namespace ignite::mcp {

class IgniteTools : public Tools {
 public:
  using RuntimeList = std::function<std::vector<runtime::Installed>()>;
  // `services`: null when no services directory is served (run_service then says so).
  IgniteTools(runner::Runner& runner, runner::ServiceIndex* services, RuntimeList runtimes)
      : runner_(runner), services_(services), runtimes_(std::move(runtimes)) {}

  nlohmann::json list() override;
  std::optional<nlohmann::json> call(const std::string& name, const nlohmann::json& arguments,
                                     std::stop_token stop) override;

 private:
  nlohmann::json run_code(const nlohmann::json& arguments, std::stop_token stop);
  nlohmann::json run_service(const nlohmann::json& arguments, std::stop_token stop);
  nlohmann::json list_runtimes();
  nlohmann::json list_services();

  runner::Runner& runner_;
  runner::ServiceIndex* services_;
  RuntimeList runtimes_;
};

// The CallToolResult of a finished run: the result document as structured content, the same
// as readable text (status, exit, metrics, stdout, stderr, the files in /out), and each image
// the program left in /out as image content.
nlohmann::json run_result(const nlohmann::json& document);

// A tool failure the model should see ({"content":[text], "isError": true}).
nlohmann::json tool_error(const std::string& message);

}  // namespace ignite::mcp
