import Decoding
import TranslationMetrics
import Translation

extension Trainer {
    /// Corpus BLEU (0…100, sacreBLEU's defaults: 13a tokenizer, exp smoothing; lowercased with
    /// `validBLEULowercase`, as `bleu --lowercase`) of the validation sources greedy-decoded by the
    /// model as it is now, against their references. The decoding is `translate --beam 1`'s: the
    /// same ``Translator`` (tokenization, `<unk>` forbidden, detokenization), sentences sorted by
    /// length and decoded in batches of the training batch size. No dropout; the weights are not
    /// changed. Throws the tokenizer's error.
    func validationBLEU(_ validation: ValidationSet) throws -> Double {
        let translator = try Translator(directory: directory.saved, model: model, searchOptions: SearchOptions(beamSize: 1))
        let lengths = validation.sources.map { translator.sourceIDs($0).count }
        let order = validation.sources.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var hypotheses = [String](repeating: "", count: validation.sources.count)
        let batchSize = directory.config.training.batchSize
        var start = 0
        while start < order.count {
            let end = order.count - start <= batchSize ? order.count : start + batchSize
            let batch = Array(order[start..<end])
            for (index, translations) in zip(batch, translator.translate(batch.map { validation.sources[$0] })) {
                hypotheses[index] = translations.first?.text ?? ""
            }
            start = end
        }
        let bleu = BLEU(lowercase: directory.config.training.validBLEULowercase ?? false)
        return bleu.corpusScore(hypotheses: hypotheses, references: [validation.references]).score
    }
}
