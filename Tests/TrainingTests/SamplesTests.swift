import Samples
import Testing

@Suite struct NumberWordsTests {
    @Test(arguments: [
        (0, "zero", "zéro"),
        (1, "one", "un"),
        (17, "seventeen", "dix-sept"),
        (21, "twenty-one", "vingt et un"),
        (71, "seventy-one", "soixante et onze"),
        (77, "seventy-seven", "soixante-dix-sept"),
        (80, "eighty", "quatre-vingts"),
        (81, "eighty-one", "quatre-vingt-un"),
        (91, "ninety-one", "quatre-vingt-onze"),
        (100, "one hundred", "cent"),
        (200, "two hundred", "deux cents"),
        (201, "two hundred one", "deux cent un"),
        (1000, "one thousand", "mille"),
        (80_000, "eighty thousand", "quatre-vingt mille"),
        (200_000, "two hundred thousand", "deux cent mille"),
        (342_701, "three hundred forty-two thousand seven hundred one", "trois cent quarante-deux mille sept cent un"),
        (999_999, "nine hundred ninety-nine thousand nine hundred ninety-nine",
         "neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf"),
    ])
    func spellsNumbersInBothLanguages(_ n: Int, _ english: String, _ french: String) {
        #expect(NumberWords.english(n) == english)
        #expect(NumberWords.french(n) == french)
    }
}

@Suite struct SampleCorpusTests {
    @Test func sameSeedGivesSameCorpus() {
        #expect(SampleCorpus(trainSize: 200, validSize: 20, testSize: 20, seed: 7).train
                == SampleCorpus(trainSize: 200, validSize: 20, testSize: 20, seed: 7).train)
        #expect(SampleCorpus(trainSize: 200, validSize: 20, testSize: 20, seed: 7).train
                != SampleCorpus(trainSize: 200, validSize: 20, testSize: 20, seed: 8).train)
    }

    @Test func splitsAreDisjointAndAligned() {
        let corpus = SampleCorpus(trainSize: 2000, validSize: 100, testSize: 100, seed: 3)
        let train = Set(corpus.train.source)
        #expect(train.count == 2000)
        #expect(corpus.valid.source.allSatisfy { !train.contains($0) })
        #expect(corpus.test.source.allSatisfy { !train.contains($0) })
        #expect(corpus.train.source.count == corpus.train.target.count)
    }
}
