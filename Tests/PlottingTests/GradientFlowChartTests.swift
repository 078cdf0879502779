import Testing
@testable import Plotting

@Suite("Gradient-flow chart")
struct GradientFlowChartTests {
    static let log = """
        {"epoch":0.1,"event":"train","ppl":50,"step":10}
        {"epoch":0.1,"event":"gradient_flow","grad_by_position":[0.5,0.25,0.125],"step":10}
        {"epoch":0.2,"event":"gradient_flow","grad_by_position":[0.4,null,0.1,0.05],"step":20}

        """

    @Test func gradientFlowLinesAreReadWithNullAsAGap() throws {
        let log = try TrainingLog(parsing: Self.log, file: "log.jsonl")
        #expect(log.gradientFlow.count == 2)
        #expect(log.gradientFlow[0].step == 10 && log.gradientFlow[0].norms == [0.5, 0.25, 0.125])
        #expect(log.gradientFlow[1].norms == [0.4, nil, 0.1, 0.05])
        #expect(log.training.count == 1)
    }

    @Test func aGradientFlowLineWithoutNormsNamesTheFieldAndLine() {
        let text = #"{"epoch":0.1,"event":"gradient_flow","step":10}"# + "\n"
        #expect(throws: TrainingLogError.missingField(file: "log.jsonl", line: 1, event: "gradient_flow", field: "grad_by_position")) {
            try TrainingLog(parsing: text, file: "log.jsonl")
        }
    }

    @Test func chartHasOneLinePerLoggedMomentAndSaysTheReadingDirection() throws {
        let log = try TrainingLog(parsing: Self.log, file: "log.jsonl")
        let svg = try #require(LineChart.gradientFlow(of: log, modelName: "m", reversedSource: true)).svg()
        #expect(svg.components(separatedBy: "<g class=\"series\"").count - 1 == 2)
        #expect(svg.contains("source read reversed"))
        #expect(svg.contains(">step 20 (epoch 0.2)</text>"))
        // The null breaks the second line into a one-point piece (a marker) and a two-point line.
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(LineChart.gradientFlow(of: try TrainingLog(parsing: "", file: "x"), modelName: "m", reversedSource: nil) == nil)
    }
}
