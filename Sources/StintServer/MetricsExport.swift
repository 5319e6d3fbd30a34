import Foundation
import Prometheus
import StintCore
import StintEngine

/// `GET /metrics`: the Prometheus text of everything the daemon measures.
///
/// Three sources: the swift-metrics registry (deliveries, and what libraries record), the
/// engine's lock-free counts (``EngineMetrics``), and gauges read from the store at scrape
/// time (jobs by state, queues, breakers, preflights, the outbox, schedules), so that
/// nothing on a job's path keeps them up to date. Every family is listed in the README's
/// metrics table, which a test compares with this export.
struct MetricsExport {
    let engine: Engine
    let counted: EngineMetrics
    let registry: PrometheusCollectorRegistry

    func render() async throws -> String {
        var text = PrometheusText()
        text.family("stint_build_info", "gauge", "The daemon's version; always 1.")
        text.sample("stint_build_info", [("version", StintVersion.current)], 1)

        let gauges = try await engine.queueGauges()
        let queues = try await engine.queues(scope: nil)
        text.family("stint_jobs", "gauge", "Jobs in the store, by queue and state (ended ones until pruned).")
        for (queue, gauge) in gauges.sorted(by: { $0.key < $1.key }) {
            for state in JobState.allCases {
                text.sample("stint_jobs", [("queue", queue), ("state", state.rawValue)], Double(gauge.counts[state] ?? 0))
            }
        }
        text.family("stint_queue_depth", "gauge", "Jobs a claim could take now (queued, due, dependencies met), by queue.")
        for (queue, gauge) in gauges.sorted(by: { $0.key < $1.key }) {
            text.sample("stint_queue_depth", [("queue", queue)], Double(gauge.ready))
        }
        text.family(
            "stint_queue_oldest_ready_age_seconds", "gauge",
            "How long the longest-waiting ready job of each queue has waited (0 when none waits).")
        let now = Date()
        for (queue, gauge) in gauges.sorted(by: { $0.key < $1.key }) {
            text.sample(
                "stint_queue_oldest_ready_age_seconds", [("queue", queue)],
                max(0, gauge.oldestReady.map { now.timeIntervalSince($0) } ?? 0))
        }
        text.family("stint_queue_paused", "gauge", "1 when the queue is paused.")
        for queue in queues { text.sample("stint_queue_paused", [("queue", queue.name)], queue.paused ? 1 : 0) }
        text.family("stint_queue_concurrency_limit", "gauge", "The queue's concurrency limit (0: only the daemon's --parallel).")
        for queue in queues { text.sample("stint_queue_concurrency_limit", [("queue", queue.name)], Double(queue.concurrency)) }
        text.family("stint_queue_breaker_state", "gauge", "1 for the circuit breaker's state, 0 for the others, by queue.")
        for queue in queues {
            for state in CircuitBreaker.State.allCases {
                text.sample(
                    "stint_queue_breaker_state", [("queue", queue.name), ("state", state.rawValue)],
                    queue.breaker.state == state ? 1 : 0)
            }
        }
        text.family(
            "stint_queue_preflight_passing", "gauge",
            "1 when the queue's preflight passed at its last check, 0 when it failed; absent for a queue without one or not checked yet.")
        for queue in queues {
            guard let preflight = queue.preflight, preflight.checkedAt != nil else { continue }
            text.sample("stint_queue_preflight_passing", [("queue", queue.name)], preflight.status == "passed" ? 1 : 0)
        }
        text.family("stint_notifications_pending", "gauge", "Notifications waiting to be acknowledged, in every session.")
        text.sample("stint_notifications_pending", [], Double(try await engine.pendingNotificationTotal()))
        let schedules = try await engine.schedules(scope: nil)
        text.family("stint_schedules", "gauge", "Schedules, by state (active or paused).")
        text.sample("stint_schedules", [("state", "active")], Double(schedules.count { !$0.paused }))
        text.sample("stint_schedules", [("state", "paused")], Double(schedules.count { $0.paused }))

        counted.render(into: &text)
        return text.text + String(decoding: registry.emitToBuffer(), as: UTF8.self)
    }
}
