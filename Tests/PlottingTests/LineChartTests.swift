import Testing
@testable import Plotting

@Suite("LineChart SVG")
struct LineChartTests {
    static let logText = [
        trainLine(100, 0.25, "182.07"), trainLine(200, 0.5, "74.2"), trainLine(300, 0.75, "48.38"),
        trainLine(400, 1.0, "39.47"), validLine(400, 1, "29.78"),
        trainLine(500, 1.25, "30.1"), trainLine(600, 1.5, "25.5"), trainLine(700, 1.75, "21.2"),
        trainLine(800, 2.0, "18.9"), validLine(800, 2, "18.97"),
    ].joined(separator: "\n") + "\n"

    private func count(_ needle: String, in text: String) -> Int {
        text.ranges(of: needle).count
    }

    @Test func drawsBothSeriesWithLegendAxesAndTitle() throws {
        let log = try TrainingLog(parsing: Self.logText, file: "log.jsonl")
        let svg = LineChart.perplexity(of: log, modelName: "multi30k-de-en").svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains(#"font-weight="bold">multi30k-de-en</text>"#))
        #expect(svg.contains(##"<g class="series" id="series-1" stroke="#1f77b4""##))
        #expect(svg.contains(##"<g class="series" id="series-2" stroke="#d62728""##))
        #expect(count(">training perplexity</text>", in: svg) == 1)
        #expect(count(">validation perplexity</text>", in: svg) == 1)
        #expect(count("<polyline", in: svg) == 2)
        // Two validation markers plus the one in the legend.
        #expect(count("<circle", in: svg) == 3)
        #expect(svg.contains(">epoch</text>") && svg.contains(">perplexity (log scale)</text>"))
        #expect(svg.contains("last training 18.90 at epoch 2 · best validation 18.97 at epoch 2"))
        // Log-scale tick labels around 18.9 ... 182.07.
        for label in ["10", "20", "50", "100", "200"] {
            #expect(svg.contains(#"dominant-baseline="middle">\#(label)</text>"#), "\(label)")
        }
        // The first training point sits at the top-left: x = 0.25 of 2 epochs, y just under 200.
        #expect(svg.contains(#"points="160,"#))
    }

    @Test func sameInputGivesIdenticalBytes() throws {
        let first = LineChart.perplexity(of: try TrainingLog(parsing: Self.logText, file: "a"), modelName: "m").svg()
        let second = LineChart.perplexity(of: try TrainingLog(parsing: Self.logText, file: "b"), modelName: "m").svg()
        #expect(Array(first.utf8) == Array(second.utf8))
        // A pinned digest: any change in the output bytes must come with a deliberate update here.
        #expect(fnv1a(first) == 15_386_116_372_489_466_777)
        #expect(first.utf8.count > 2000)
    }

    @Test func emptyValidationSeriesLeavesOnlyTraining() throws {
        let text = [trainLine(100, 0.2, "90"), trainLine(200, 0.4, "60")].joined(separator: "\n")
        let svg = LineChart.perplexity(of: try TrainingLog(parsing: text, file: "log.jsonl"), modelName: "m").svg()
        #expect(count("<polyline", in: svg) == 1)
        #expect(count("<circle", in: svg) == 0)
        #expect(!svg.contains("validation perplexity"))
        #expect(svg.contains("last training 60.00 at epoch 0.4 · no validation yet"))

        // A series given with no points at all still draws axes and its legend row.
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            .init(name: "a", points: [.init(x: 1, y: 5)], color: "#000000"),
            .init(name: "b", points: [], color: "#ff0000", showsMarkers: true),
        ])
        let bare = chart.svg()
        #expect(bare.contains(">b</text>") && count("<polyline", in: bare) == 0)
        // A lone point gets a marker so it shows; the empty series adds only its legend marker.
        #expect(count("<circle", in: bare) == 2)
    }

    @Test func nullValuesBreakTheLine() throws {
        let text = [trainLine(100, 0.2, "90"), trainLine(200, 0.4, "60"), trainLine(300, 0.6, "null"),
                    trainLine(400, 0.8, "30"), trainLine(500, 1.0, "25")].joined(separator: "\n")
        let svg = LineChart.perplexity(of: try TrainingLog(parsing: text, file: "log.jsonl"), modelName: "m").svg()
        #expect(count("<polyline", in: svg) == 2)
        // Every coordinate is a plain decimal (no "nan" or "inf" leaked into the SVG).
        for line in svg.split(separator: "\n") where line.hasPrefix("<polyline") || line.hasPrefix("<circle") {
            let numbers = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            for number in numbers where number.first != "#" && number != "none" && number != "round" {
                #expect(number.allSatisfy { "0123456789., -".contains($0) }, "\(line)")
            }
        }
    }

    @Test func skippedBatchesAreCountedInTheSubtitle() throws {
        let text = trainLine(100, 0.2, "90") + "\n" + #"{"event":"skipped_batch","step":120}"# + "\n"
        let svg = LineChart.perplexity(of: try TrainingLog(parsing: text, file: "log.jsonl"), modelName: "m").svg()
        #expect(svg.contains("no validation yet · 1 skipped batch</text>"))
    }

    @Test func textIsEscaped() {
        let chart = LineChart(title: #"a<b>&"c'"#, xLabel: "x", yLabel: "y",
                              series: [.init(name: "s&t", points: [.init(x: 1, y: 2)], color: "#000000")])
        let svg = chart.svg()
        #expect(svg.contains("<title>a&lt;b&gt;&amp;&quot;c&#39;</title>"))
        #expect(svg.contains(">s&amp;t</text>"))
    }

    @Test func piecesSplitAtUnplottableValues() {
        let points: [LineChart.Point] = [.init(x: 0, y: 1), .init(x: 1, y: .nan), .init(x: 2, y: 0), .init(x: 3, y: 4),
                                         .init(x: 4, y: 5), .init(x: .infinity, y: 3), .init(x: 5, y: 6)]
        #expect(LineChart.pieces(of: points).map { $0.map(\.x) } == [[0], [3, 4], [5]])
    }
}

/// 64-bit FNV-1a of the UTF-8 bytes.
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
    return hash
}
