/// Charts drawn one under another in a single SVG document (each keeps its own axes): what
/// `seq2seq plot` writes, perplexity first. Pure function of its charts, like ``LineChart``.
public struct ChartStack: Equatable {
    public var charts: [LineChart]

    public init(charts: [LineChart]) {
        precondition(!charts.isEmpty, "ChartStack needs at least one chart")
        self.charts = charts
    }

    /// One chart alone is exactly its own document (``LineChart/svg()``); several are nested
    /// `<svg>` elements, stacked top to bottom, in a document as wide as the widest.
    public func svg() -> String {
        if charts.count == 1 { return charts[0].svg() }
        let width = charts.map(\.width).max() ?? 0
        let height = charts.reduce(0) { $0 + $1.height }
        func n(_ value: Double) -> String { SVGText.number(value) }
        var out = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(n(width))" height="\##(n(height))" viewBox="0 0 \##(n(width)) \##(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"##]
        out.append("<title>\(SVGText.escaped(charts[0].title))</title>")
        var offset = 0.0
        for chart in charts {
            out += chart.lines(at: offset)
            offset += chart.height
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
