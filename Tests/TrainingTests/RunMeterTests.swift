import Testing
import Training

/// The run meter behind `train`'s ETA, smoothed loss, log timing and estimate (issue 34: the first
/// ETA was 16m22s for a 3-minute run, the running loss jumped, nothing was logged for minutes).
@Suite struct RunMeterTests {
    /// Slow warm-up steps (allocation, kernel generation) do not enter the ETA; the validations
    /// still to come do, at their measured cost.
    @Test func theETAIgnoresTheWarmUpAndCountsValidations() throws {
        var meter = RunMeter(logEvery: 100, logEverySeconds: 30, now: 0)
        #expect(meter.eta(remainingSteps: 100, remainingValidations: 0) == nil)
        for _ in 0..<RunMeter.warmupSteps { meter.recordStep(seconds: 10, tokens: 100, lossSum: 50, lossTokens: 10) }
        #expect(meter.eta(remainingSteps: 100, remainingValidations: 0) == nil)
        for _ in 0..<10 { meter.recordStep(seconds: 0.5, tokens: 100, lossSum: 50, lossTokens: 10) }
        #expect(meter.secondsPerStep == 0.5)
        #expect(meter.tokensPerSecond == 200)
        #expect(meter.eta(remainingSteps: 100, remainingValidations: 0) == 50)
        meter.recordValidation(seconds: 4)
        meter.recordValidation(seconds: 6)
        #expect(meter.eta(remainingSteps: 100, remainingValidations: 3) == 65)
        #expect(!meter.estimateIsDue)
        for _ in 10..<RunMeter.estimateSteps { meter.recordStep(seconds: 0.5, tokens: 100, lossSum: 50, lossTokens: 10) }
        #expect(meter.estimateIsDue)
    }

    /// The smoothed loss moves a little per step: one outlier batch does not make it jump.
    @Test func theSmoothedLossDoesNotJump() {
        var meter = RunMeter(logEvery: 100, logEverySeconds: 30, now: 0)
        for _ in 0..<200 { meter.recordStep(seconds: 0.1, tokens: 10, lossSum: 20, lossTokens: 10) }
        #expect(abs(meter.smoothedLoss! - 2) < 1e-9)
        meter.recordStep(seconds: 0.1, tokens: 10, lossSum: 100, lossTokens: 10)  // one batch at loss 10
        #expect(meter.smoothedLoss! < 2.2)
        meter.recordStep(seconds: 0.1, tokens: 10, lossSum: .nan, lossTokens: 10)
        #expect(meter.smoothedLoss!.isFinite)
    }

    /// A log line is due every `logEvery` steps and also once `logEverySeconds` have passed.
    @Test func aLogLineIsDueByStepsOrBySeconds() {
        var meter = RunMeter(logEvery: 100, logEverySeconds: 30, now: 1000)
        #expect(meter.logDue(step: 100, now: 1001))
        #expect(!meter.logDue(step: 7, now: 1029))
        #expect(meter.logDue(step: 7, now: 1030))
        meter.logged(now: 1030)
        #expect(!meter.logDue(step: 8, now: 1031))
    }
}
