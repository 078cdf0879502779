/// A line chart with a linear x axis from 0 and a logarithmic y axis, rendered as SVG text. Pure
/// function of its fields: no file I/O, no clock, no Dictionary order, fixed number formatting,
/// so the same chart always gives byte-identical SVG.
public struct LineChart: Equatable {
    /// One data series. Points whose y is not finite and positive (a `null` in the log) cannot be
    /// placed on a log axis; they break the line into separate pieces instead.
    public struct Series: Equatable {
        public var name: String
        public var points: [Point]
        /// CSS colour, e.g. "#1f77b4".
        public var color: String
        /// Circles at every point (a point with no neighbour in its piece always gets one, since a
        /// one-point line would not show).
        public var showsMarkers: Bool

        public init(name: String, points: [Point], color: String, showsMarkers: Bool = false) {
            self.name = name
            self.points = points
            self.color = color
            self.showsMarkers = showsMarkers
        }
    }

    public struct Point: Equatable {
        public var x: Double
        public var y: Double

        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// How the y axis maps values.
    public enum YAxis: Equatable {
        /// Base-10 logarithmic with 1-2-5 ticks (``LogScale``); only finite positive y are drawn.
        case logarithmic
        /// Linear from 0 (``LinearScale``), for rates and fractions; every finite y ≥ 0 is drawn.
        case linear
    }

    public var title: String
    /// A smaller second line under the title; omitted when nil.
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    /// Drawn in order (later series on top) and listed in this order in the legend.
    public var series: [Series]
    /// Size in SVG user units (pixels).
    public var width: Double
    public var height: Double
    public var yAxis: YAxis

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, series: [Series],
                width: Double = 800, height: Double = 480, yAxis: YAxis = .logarithmic) {
        precondition(width >= 300 && height >= 200, "LineChart needs at least 300×200, got \(width)×\(height)")
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.width = width
        self.height = height
        self.yAxis = yAxis
    }

    /// The x axis: from 0 to a round value covering every finite x.
    public var xScale: LinearScale {
        LinearScale(fromZeroCovering: series.lazy.flatMap { $0.points }.filter { self.isPlottable($0.y) }.map(\.x))
    }

    /// The linear y axis (used when `yAxis` is `.linear`): from 0 to a round value covering every y.
    public var linearYScale: LinearScale {
        LinearScale(fromZeroCovering: series.lazy.flatMap { $0.points }.filter { self.isPlottable($0.y) }.map(\.y))
    }

    /// Whether a y value can be placed on this chart's y axis.
    func isPlottable(_ y: Double) -> Bool {
        yAxis == .linear ? y.isFinite && y >= 0 : y.isFinite && y > 0
    }

    /// The y axis: 1-2-5 ends around every plottable y.
    public var yScale: LogScale {
        LogScale(covering: series.lazy.flatMap { $0.points }.map(\.y))
    }

    /// Margins around the plot area (left leaves room for tick labels and the rotated y label).
    static let margin = (left: 72.0, right: 24.0, top: 56.0, bottom: 56.0)

    /// The chart as a standalone SVG 1.1 document, ending in a newline.
    public func svg() -> String {
        let x = xScale
        let yTicks: [AxisTick], yFraction: (Double) -> Double
        switch yAxis {
        case .logarithmic: let scale = yScale; (yTicks, yFraction) = (scale.ticks, scale.fraction)
        case .linear: let scale = linearYScale; (yTicks, yFraction) = (scale.ticks, scale.fraction)
        }
        let left = LineChart.margin.left, top = LineChart.margin.top
        let right = width - LineChart.margin.right, bottom = height - LineChart.margin.bottom
        func px(_ value: Double) -> String { SVGText.number(left + x.fraction(value) * (right - left)) }
        func py(_ value: Double) -> String { SVGText.number(bottom - yFraction(value) * (bottom - top)) }
        func n(_ value: Double) -> String { SVGText.number(value) }
        func esc(_ text: String) -> String { SVGText.escaped(text) }

        var out: [String] = []
        out.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(n(width))" height="\##(n(height))" viewBox="0 0 \##(n(width)) \##(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"##)
        out.append("<title>\(esc(title))</title>")
        out.append(##"<rect x="0" y="0" width="\##(n(width))" height="\##(n(height))" fill="#ffffff"/>"##)

        // Title block.
        out.append(##"<text x="\##(n(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\##(esc(title))</text>"##)
        if let subtitle {
            out.append(##"<text x="\##(n(width / 2))" y="42" text-anchor="middle" fill="#555555">\##(esc(subtitle))</text>"##)
        }

        // Grid and tick labels.
        out.append(##"<g stroke="#e0e0e0" stroke-width="1">"##)
        for tick in x.ticks {
            out.append(##"<line x1="\##(px(tick.value))" y1="\##(n(top))" x2="\##(px(tick.value))" y2="\##(n(bottom))"/>"##)
        }
        for tick in yTicks {
            out.append(##"<line x1="\##(n(left))" y1="\##(py(tick.value))" x2="\##(n(right))" y2="\##(py(tick.value))"/>"##)
        }
        out.append("</g>")
        out.append(##"<g fill="#333333">"##)
        for tick in x.ticks {
            out.append(##"<text x="\##(px(tick.value))" y="\##(n(bottom + 18))" text-anchor="middle">\##(esc(tick.label))</text>"##)
        }
        for tick in yTicks {
            out.append(##"<text x="\##(n(left - 8))" y="\##(py(tick.value))" text-anchor="end" dominant-baseline="middle">\##(esc(tick.label))</text>"##)
        }
        out.append("</g>")

        // Axis labels and the plot frame.
        out.append(##"<text x="\##(n((left + right) / 2))" y="\##(n(height - 14))" text-anchor="middle">\##(esc(xLabel))</text>"##)
        let yMid = n((top + bottom) / 2)
        out.append(##"<text x="18" y="\##(yMid)" text-anchor="middle" transform="rotate(-90 18 \##(yMid))">\##(esc(yLabel))</text>"##)
        out.append(##"<rect x="\##(n(left))" y="\##(n(top))" width="\##(n(right - left))" height="\##(n(bottom - top))" fill="none" stroke="#333333" stroke-width="1"/>"##)

        // Series: a polyline per unbroken piece, then markers on top.
        for (index, item) in series.enumerated() {
            out.append(##"<g class="series" id="series-\##(index + 1)" stroke="\##(esc(item.color))" fill="\##(esc(item.color))">"##)
            out.append("<title>\(esc(item.name))</title>")
            let pieces = LineChart.pieces(of: item.points, plottable: isPlottable)
            for piece in pieces where piece.count > 1 {
                let coordinates = piece.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
                out.append(##"<polyline fill="none" stroke-width="1.75" stroke-linejoin="round" points="\##(coordinates)"/>"##)
            }
            for piece in pieces where item.showsMarkers || piece.count == 1 {
                for point in piece {
                    out.append(##"<circle cx="\##(px(point.x))" cy="\##(py(point.y))" r="3.5" stroke="#ffffff" stroke-width="1"/>"##)
                }
            }
            out.append("</g>")
        }

        // Legend in the top-right corner of the plot, where falling perplexity curves leave room.
        if !series.isEmpty {
            let rowHeight = 18.0
            let longest = series.map { $0.name.count }.max() ?? 0
            let boxWidth = 44 + 7 * Double(longest)
            let boxLeft = right - 10 - boxWidth, boxTop = top + 10
            out.append(##"<g class="legend">"##)
            out.append(##"<rect x="\##(n(boxLeft))" y="\##(n(boxTop))" width="\##(n(boxWidth))" height="\##(n(8 + rowHeight * Double(series.count)))" fill="#ffffff" fill-opacity="0.9" stroke="#bbbbbb"/>"##)
            for (index, item) in series.enumerated() {
                let rowY = boxTop + 4 + rowHeight * (Double(index) + 0.5)
                out.append(##"<line x1="\##(n(boxLeft + 8))" y1="\##(n(rowY))" x2="\##(n(boxLeft + 32))" y2="\##(n(rowY))" stroke="\##(esc(item.color))" stroke-width="1.75"/>"##)
                if item.showsMarkers {
                    out.append(##"<circle cx="\##(n(boxLeft + 20))" cy="\##(n(rowY))" r="3.5" fill="\##(esc(item.color))" stroke="#ffffff" stroke-width="1"/>"##)
                }
                out.append(##"<text x="\##(n(boxLeft + 38))" y="\##(n(rowY))" dominant-baseline="middle">\##(esc(item.name))</text>"##)
            }
            out.append("</g>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Splits points at every value the axes cannot show (non-finite x, or y that `plottable`
    /// refuses: by default not finite and positive, what a log axis needs); empty pieces are dropped.
    static func pieces(of points: [Point], plottable: (Double) -> Bool = { $0.isFinite && $0 > 0 }) -> [[Point]] {
        var pieces: [[Point]] = []
        var current: [Point] = []
        for point in points {
            if point.x.isFinite && plottable(point.y) {
                current.append(point)
            } else if !current.isEmpty {
                pieces.append(current)
                current = []
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
