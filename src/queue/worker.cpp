#include "queue/worker.hpp"

#include <unistd.h>


#include <spdlog/spdlog.h>

#include "api/ignis.hpp"
#include "api/result_json.hpp"
#include "core/printable.hpp"

namespace ignite::queue {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

std::string_view message_data(natsMsg* msg) {
  const char* data = nats().natsMsg_GetData(msg);
  return {data ? data : "", static_cast<std::size_t>(nats().natsMsg_GetDataLength(msg))};
}

// A failure that is about us, not about the job: another worker (or this one, later) may run it.
bool ours(const api::RequestError& e) { return e.status == 429 || e.status >= 500; }

}  // namespace

Worker::Worker(WorkerOptions options, runner::Runner& runner, runner::ServiceIndex* services)
    : options_(std::move(options)), runner_(runner), services_(services), name_(host_name()) {}

Worker::~Worker() {
  // Subscriptions first (no more callbacks), then the pools (their tasks use the connection),
  // then the connection.
  stop_service_requests();
  job_stop_.request_stop();
  if (service_pool_) service_pool_->shutdown();
  if (job_pool_) job_pool_->shutdown();
  ticker_ = {};
}

Result<void> Worker::start(std::stop_token stop) {
  auto nc = connect(options_.nats, [&] { return stop.stop_requested(); });
  if (!nc) return fail(std::move(nc).error());
  nc_ = std::move(*nc);
  auto js = jetstream(nc_.get());
  if (!js) return fail(std::move(js).error());
  js_ = std::move(*js);
  // A cluster still electing, or a node too loaded to answer in time, is waited for as a
  // server not yet up is.
  auto kv = retry_while_unavailable([&] { return stop.stop_requested(); },
                                    [&] { return ensure_jetstream_objects(js_.get(), options_.stream); });
  if (!kv) return fail(std::move(kv).error());
  kv_ = std::move(*kv);
  store_ = std::make_unique<JobStore>(kv_.get());

  jsSubOptions so;
  nats().jsSubOptions_Init(&so);
  so.Stream = options_.stream.stream.c_str();
  so.Consumer = options_.stream.consumer.c_str();  // bind to the shared durable, never create
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (auto r = check(nats().js_PullSubscribe(&sub, js_.get(), options_.stream.subject.c_str(),
                                      options_.stream.consumer.c_str(), nullptr, &so, &jerr),
                     "subscribe to " + options_.stream.consumer, jerr);
      !r)
    return r;
  jobs_sub_.reset(sub);

  job_pool_ = std::make_unique<runner::FixedPool>(options_.concurrency);
  if (options_.serve_services && services_) {
    service_pool_ = std::make_unique<runner::FixedPool>(options_.concurrency);
    sub = nullptr;
    // A queue group: each request goes to one worker of the group.
    if (auto r = check(nats().natsConnection_QueueSubscribe(&sub, nc_.get(), "ignite.execute.*", "ignite-workers",
                                                     &Worker::service_callback, this),
                       "subscribe to ignite.execute.*");
        !r)
      return r;
    service_sub_.reset(sub);
    if (nats().natsSubscription_SetOnCompleteCB(sub, &Worker::service_closed, this) == NATS_OK)
      service_done_ = service_closed_.get_future();
  }
  ticker_ = std::jthread([this](std::stop_token st) { extend_deadlines(st); });
  spdlog::info("worker {}: consuming {} ({}) with {} slots", name_, options_.stream.stream,
               options_.stream.consumer, options_.concurrency);
  return {};
}

void Worker::run(std::stop_token stop) {
  fetch_loop(stop);
  // Draining: nothing new is fetched, no new service request arrives, queued ones are answered
  // "draining", and a fetched job still waiting for a slot goes back to the stream. Running
  // jobs and requests may finish within the grace period; then they are cancelled, and a
  // cancelled job is nak'ed (run_job), so another worker takes it.
  draining_ = true;
  runner_.drain();
  stop_service_requests();
  std::unique_lock lock(mu_);
  const auto idle = [&] { return busy_ == 0 && services_pending_.load() == 0; };
  if (!cv_.wait_until(lock, Clock::now() + options_.grace, idle)) {
    spdlog::warn("worker: grace period over; cancelling {} job(s), they go back to the stream", busy_);
    job_stop_.request_stop();
    runner_.cancel_all();
    cv_.wait_for(lock, std::chrono::seconds(10), idle);
  }
  lock.unlock();
  if (service_pool_) service_pool_->shutdown();
  nats().natsConnection_FlushTimeout(nc_.get(), 2000);
  log_counters("stopped");
}

void Worker::log_counters(const char* when) const {
  spdlog::info("worker: {}; received {}, done {}, failed {}, redelivered {}, republished {}, malformed {}, "
               "dead-lettered {}, requeued {}, in flight {}",
               when, counters_.received.load(), counters_.done.load(), counters_.failed.load(),
               counters_.redelivered.load(), counters_.republished.load(), counters_.malformed.load(),
               counters_.dead_lettered.load(), counters_.requeued.load(), counters_.in_flight.load());
}

void Worker::stop_service_requests() {
  if (!service_sub_) return;
  // Drained, not just unsubscribed: a callback still handing a request to the pool finishes
  // before the pool may go away. A drain cannot start while the connection is down; then the
  // subscription is closed at once, and a callback already running is still waited for.
  if (nats().natsSubscription_Drain(service_sub_.get()) == NATS_OK)
    nats().natsSubscription_WaitForDrainCompletion(service_sub_.get(), 5000);
  else
    nats().natsSubscription_Unsubscribe(service_sub_.get());
  if (service_done_.valid() && service_done_.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    spdlog::warn("worker: a service request callback did not return within 5 s of unsubscribing");
  service_sub_.reset();
}

void Worker::service_closed(void* self) { static_cast<Worker*>(self)->service_closed_.set_value(); }

void Worker::fetch_loop(std::stop_token stop) {
  auto next_log = Clock::now() + std::chrono::minutes(1);
  std::uint64_t logged_received = 0;
  while (!stop.stop_requested()) {
    if (Clock::now() >= next_log) {  // a line a minute while there is work
      next_log = Clock::now() + std::chrono::minutes(1);
      if (counters_.received.load() != logged_received) log_counters("running");
      logged_received = counters_.received.load();
    }
    std::size_t free = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return busy_ < options_.concurrency; });
      free = options_.concurrency - busy_;
    }
    if (free == 0) continue;
    // Only as many as there are free slots: a job fetched is a job nobody else can run until
    // its ack deadline passes.
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = nats().natsSubscription_Fetch(&list, jobs_sub_.get(), static_cast<int>(free), 1000, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      // Disconnected, or the cluster is electing a leader: cnats reconnects by itself.
      spdlog::debug("worker: fetch: {}", nats_error("fetch", s, jerr).message);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      Message msg(list.Msgs[i]);
      list.Msgs[i] = nullptr;
      {
        std::lock_guard lock(mu_);
        ++busy_;
      }
      ++counters_.in_flight;
      job_pool_->enqueue([this, m = msg.release()] {
        handle(Message(m));
        --counters_.in_flight;
        {
          std::lock_guard lock(mu_);
          --busy_;
        }
        cv_.notify_all();
      });
    }
    nats().natsMsgList_Destroy(&list);
  }
}

void Worker::handle(Message msg) {
  ++counters_.received;
  std::uint64_t delivered = 1;
  jsMsgMetaData* raw_meta = nullptr;
  if (nats().natsMsg_GetMetaData(&raw_meta, msg.get()) == NATS_OK) {
    MetaData meta(raw_meta);
    delivered = meta->NumDelivered;
  }
  if (delivered > 1) ++counters_.redelivered;

  auto decoded = api::decode_ignis_job(message_data(msg.get()), runner_.limits, options_.max_code_bytes);
  if (auto* rejected = std::get_if<api::IgnisRejected>(&decoded)) {
    ++counters_.malformed;
    spdlog::warn("worker: refused a job{}: {}", rejected->id.empty() ? "" : " " + rejected->id,
                 printable(rejected->error.message, 300));
    if (rejected->id.empty()) {
      // Nobody to tell: kept on the dead-letter subject, and never redelivered.
      dead_letter(msg.get(), rejected->error.message);
      nats().natsMsg_Ack(msg.get(), nullptr);
      return;
    }
    return finish(msg.get(), rejected->id, api::ignis_failed(rejected->id, rejected->error));
  }
  auto& job = std::get<api::IgnisJob>(decoded);

  auto stored = store_->final_status(job.id);
  if (!stored) {
    spdlog::warn("worker: job {}: {}", job.id, stored.error().message);
    return requeue(msg.get(), options_.retry_delay);
  }
  if (*stored) {
    // Finished before (our ack was lost, or the id was published twice): the same answer again.
    ++counters_.republished;
    publish_status(job.id, **stored);
    nats().natsMsg_Ack(msg.get(), nullptr);
    return;
  }
  if (delivered > static_cast<std::uint64_t>(options_.stream.max_deliver)) {
    const std::string reason = "gave up after " + std::to_string(options_.stream.max_deliver) +
                               " deliveries: every attempt ended without a result (a worker crashed or lost NATS)";
    dead_letter(msg.get(), reason);
    return finish(msg.get(), job.id, api::ignis_failed(job.id, {500, "redelivery_limit", reason}));
  }
  run_job(msg.get(), job.id, job.request);
}

void Worker::run_job(natsMsg* msg, const std::string& id, const engine::AdhocRequest& request) {
  publish_status(id, api::ignis_progress(id, "received", "received by " + name_));
  const json running = api::ignis_progress(id, "running", "running " + request.runtime.name);
  if (auto r = store_->put_progress(id, running); !r) spdlog::debug("worker: job {}: {}", id, r.error().message);
  publish_status(id, running);

  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    ticket = next_ticket_++;
    active_[ticket] = Active{msg, Clock::now()};
  }
  // A fetched job waits for a slot (service requests may hold them) as long as it takes, not
  // the queue timeout: a timeout would send it back and spend one of its deliveries on our
  // being busy. Its ack deadline is extended meanwhile, and the fetch bounds how many wait.
  auto report = runner_.run(
      [&](std::stop_token st, const sandbox::OutputSink& sink) { return runner_.engine.execute_adhoc(request, st, sink); },
      {}, job_stop_.get_token(), /*bounded=*/false, std::chrono::hours(24));
  {
    std::lock_guard lock(mu_);
    active_.erase(ticket);
  }
  if (job_stop_.stop_requested()) return requeue(msg, std::chrono::milliseconds(0));
  if (auto* e = std::get_if<api::RequestError>(&report)) {
    if (ours(*e)) {
      spdlog::warn("worker: job {} goes back to the stream: {}", id, e->message);
      return requeue(msg, options_.retry_delay);
    }
    return finish(msg, id, api::ignis_failed(id, *e));
  }
  finish(msg, id, api::ignis_final(id, api::result_document(std::get<engine::JobReport>(report))));
}

void Worker::finish(natsMsg* msg, const std::string& id, json status) {
  // A message over the server's max_payload is refused, by the status subject and by the
  // bucket alike: a job printing a lot would never finish.
  status = api::fit_status(std::move(status), max_message_bytes());
  // Stored before published and acked: if we die in between, the redelivery finds it stored
  // and republishes it instead of running the job again.
  Result<JobStore::Final> stored = fail(ErrorCode::unavailable, "not stored");
  for (auto delay = std::chrono::milliseconds(100); !job_stop_.stop_requested(); delay *= 2) {
    stored = store_->put_final(id, status);
    if (stored || delay > options_.stream.ack_wait / 2) break;
    std::this_thread::sleep_for(delay);
  }
  if (!stored) {
    spdlog::warn("worker: job {}: result not stored ({}); it goes back to the stream", id, stored.error().message);
    return requeue(msg, options_.retry_delay);
  }
  if (!stored->ours) ++counters_.republished;  // another run of this id finished first
  else ++(stored->status.value("status", "") == "done" ? counters_.done : counters_.failed);
  publish_status(id, stored->status);
  nats().natsMsg_Ack(msg, nullptr);
}

std::size_t Worker::max_message_bytes() const {
  // Room is left for headers.
  return static_cast<std::size_t>(std::max<std::int64_t>(nats().natsConnection_GetMaxPayload(nc_.get()), 128 << 10)) - 8192;
}

void Worker::publish_status(const std::string& id, const json& status) {
  const std::string subject = options_.stream.status_prefix + id;
  // What we store fits already; a stored status someone else wrote may not.
  const std::string text = api::fitted_text(status, max_message_bytes());
  if (auto r = check(nats().natsConnection_Publish(nc_.get(), subject.c_str(), text.data(), static_cast<int>(text.size())),
                     "publish " + subject);
      !r)
    spdlog::warn("worker: {}", r.error().message);
}

void Worker::dead_letter(natsMsg* msg, const std::string& reason) {
  ++counters_.dead_lettered;
  natsMsg* raw = nullptr;
  // The first 64 KiB are enough to see what it was; the stream is bounded in bytes as well.
  const auto whole = message_data(msg);
  const auto data = whole.substr(0, 64 << 10);
  if (nats().natsMsg_Create(&raw, options_.stream.dead_subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) !=
      NATS_OK)
    return;
  Message copy(raw);
  nats().natsMsgHeader_Set(raw, "Ignite-Reason", printable(reason, 512).c_str());
  nats().natsMsgHeader_Set(raw, "Ignite-Original-Bytes", std::to_string(whole.size()).c_str());
  nats().natsConnection_PublishMsg(nc_.get(), raw);
}

void Worker::requeue(natsMsg* msg, std::chrono::milliseconds delay) {
  ++counters_.requeued;
  nats().natsMsg_NakWithDelay(msg, delay.count(), nullptr);
}

void Worker::extend_deadlines(std::stop_token stop) {
  // Every job running longer than a third of the ack wait says "in progress", which restarts
  // the server's ack timer; a worker that died stops saying it, and the job is redelivered.
  const auto every = std::max<Clock::duration>(options_.stream.ack_wait / 3, std::chrono::milliseconds(200));
  while (!stop.stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    for (auto& [ticket, a] : active_) {
      if (now - a.last_progress < every) continue;
      nats().natsMsg_InProgress(a.msg, nullptr);
      a.last_progress = now;
    }
  }
}

void Worker::service_callback(natsConnection*, natsSubscription*, natsMsg* raw, void* self) {
  auto* worker = static_cast<Worker*>(self);
  Message msg(raw);
  ++worker->counters_.service_requests;
  if (!nats().natsMsg_GetReply(raw) || !*nats().natsMsg_GetReply(raw)) return;  // not a request: nobody to answer
  // Bounded: beyond the bound a request is answered "queue full" at once, instead of growing
  // memory and a backlog nobody waits for (the requester's own timeout is short).
  if (worker->services_pending_.load() >= worker->options_.max_service_queue) {
    worker->reply(raw, api::error_body({429, "queue_full", "this worker's service queue is full", 1}));
    return;
  }
  ++worker->services_pending_;
  // cnats delivers one subscription's messages on one thread: run elsewhere, in parallel.
  worker->service_pool_->enqueue([worker, m = msg.release(), queued = Clock::now()] {
    worker->on_service_request(Message(m), queued);
    {
      std::lock_guard lock(worker->mu_);
      --worker->services_pending_;
    }
    worker->cv_.notify_all();
  });
}

void Worker::reply(natsMsg* request, const json& answer) {
  std::string text = answer.dump();
  // A result document is cut the way a status's "result" is (serialized once when it fits).
  if (text.size() > max_message_bytes())
    text = api::fit_status(json{{"result", answer}}, max_message_bytes())["result"].dump();
  nats().natsConnection_Publish(nc_.get(), nats().natsMsg_GetReply(request), text.data(), static_cast<int>(text.size()));
}

void Worker::on_service_request(Message msg, Clock::time_point queued) {
  if (draining_.load()) return reply(msg.get(), api::error_body({503, "draining", "this worker is shutting down", 5}));
  if (Clock::now() - queued > runner_.runner_options.queue_timeout)
    return reply(msg.get(), api::error_body({429, "queue_timeout", "waited too long for an execution slot", 1}));
  const std::string subject = nats().natsMsg_GetSubject(msg.get());
  const std::string name = subject.substr(subject.rfind('.') + 1);
  json answer;
  auto service = services_->find(name);
  auto decoded = api::decode_service_execute(message_data(msg.get()));
  if (auto* unknown = std::get_if<api::RequestError>(&service)) {
    answer = api::error_body(*unknown);
  } else if (auto* bad = std::get_if<api::RequestError>(&decoded)) {
    answer = api::error_body(*bad);
  } else {
    const auto& body = std::get<api::ServiceExecute>(decoded);
    engine::JobRequest job{std::get<config::ServiceConfig>(service), body.input_json, body.skip_preflight, "native"};
    auto report = runner_.run([&](std::stop_token st, const sandbox::OutputSink& sink) {
      return runner_.engine.execute(job, st, sink);
    }, {}, job_stop_.get_token());
    if (auto* e = std::get_if<api::RequestError>(&report)) {
      answer = api::error_body(*e);
    } else {
      answer = api::result_document(std::get<engine::JobReport>(report));
      services_->record_run(name, std::get<engine::JobReport>(report));
    }
  }
  reply(msg.get(), answer);
}

std::string Worker::render_metrics() const {
  std::string out = runner_.metrics.render(runner_.gauges());
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  family("ignite_worker_jobs_total", "counter", "Jobs by what happened to them.");
  const std::pair<const char*, const std::atomic<std::uint64_t>*> events[] = {
      {"received", &counters_.received},       {"done", &counters_.done},
      {"failed", &counters_.failed},           {"redelivered", &counters_.redelivered},
      {"republished", &counters_.republished}, {"malformed", &counters_.malformed},
      {"dead_lettered", &counters_.dead_lettered}, {"requeued", &counters_.requeued}};
  for (const auto& [event, value] : events)
    out += std::string("ignite_worker_jobs_total{event=\"") + event + "\"} " + std::to_string(value->load()) + "\n";
  family("ignite_worker_service_requests_total", "counter", "Requests on ignite.execute.<service>.");
  out += "ignite_worker_service_requests_total " + std::to_string(counters_.service_requests.load()) + "\n";
  family("ignite_worker_in_flight_jobs", "gauge", "Jobs fetched and not yet finished.");
  out += "ignite_worker_in_flight_jobs " + std::to_string(counters_.in_flight.load()) + "\n";
  return out;
}

}  // namespace ignite::queue
