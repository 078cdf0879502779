import Kernels
import Prometheus

/// The figures `GET /metrics` reports, in Prometheus' text format (swift-prometheus registry).
///
/// - `seq2seq_requests_total{route,code}`: requests answered, by route and HTTP status (routes that
///   do not exist are counted as `route="unknown"`, so clients cannot grow the label set);
/// - `seq2seq_sentences_total`: sentences translated;
/// - `seq2seq_request_duration_seconds{route}`: latency of the translation routes, arrival to answer;
/// - `seq2seq_queue_depth`: sentences waiting for the decoder;
/// - `seq2seq_batch_sentences`: sentences per decoding search (how well requests are batched);
/// - `seq2seq_compute_info{gemm,gemm_isa,cpu,cpu_isa,threads}`: always 1; its labels name the GEMM
///   backend in use, the instruction set of its kernels, the CPU's model name and widest vector
///   instruction set, and the thread budget.
public final class ServerMetrics: Sendable {
    /// The registry every figure lives in; `text()` renders it.
    public let registry = PrometheusCollectorRegistry()
    let sentences: Counter
    let queueDepth: Gauge
    let batchSentences: ValueHistogram

    /// Routes with a label of their own; any other path is counted as "unknown".
    static let routes: Set<String> = ["/", "/health", "/metrics", "/translate", "/translator/translate", "/translator/health"]

    public init() {
        sentences = registry.makeCounter(descriptor: Self.name("sentences", unit: "total", help: "Sentences translated."))
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", help: "Sentences waiting for the decoder."))
        batchSentences = registry.makeValueHistogram(
            descriptor: Self.name("batch_sentences", help: "Sentences decoded together in one search."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        let backend = GemmBackend.inUse, cpu = CPUInfo.current
        registry.makeGauge(descriptor: Self.name("compute_info", help: "What computes the translations (always 1): GEMM backend, its instruction set, CPU, threads."),
                           labels: [("gemm", backend.rawValue), ("gemm_isa", backend.instructionSet), ("cpu", cpu.modelName),
                                    ("cpu_isa", cpu.vectorISA), ("threads", String(BLAS.budget))]).set(Int64(1))
    }

    /// `seq2seq_NAME[_UNIT]` with its help text (swift-prometheus' descriptor; an empty unit is left out).
    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "seq2seq", metricName: name, unitName: unit, helpText: help)
    }

    /// Counts one answered request; `path` is the request path, `code` its HTTP status.
    func countRequest(path: String, code: Int) {
        let route = Self.routes.contains(path) ? path : "unknown"
        registry.makeCounter(descriptor: Self.name("requests", unit: "total", help: "HTTP requests answered, by route and status."),
                             labels: [("route", route), ("code", String(code))]).increment()
    }

    /// Records the latency of one translation request (`route` is one of the translation routes).
    func recordLatency(route: String, _ duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", unit: "seconds", help: "Translation request latency, arrival to answer."),
            labels: [("route", route)],
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                      .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(500),
                      .seconds(1), .seconds(2), .seconds(5), .seconds(10)]).record(duration)
    }

    /// Every figure in Prometheus' text exposition format (version 0.0.4).
    public func text() -> String { registry.emitToString() }
}
