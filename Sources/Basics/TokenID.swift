/// The reserved token ids shared by every vocabulary and model of the project (the one
/// definition; `Vocabulary` and `Model` both use it).
///
/// Ids 0–3 are never reached from text: a token spelled like a reserved name (`<unk>`, `</s>` in
/// pretokenized input) is an ordinary word, looked up like any other (see `Vocabulary`).
public enum TokenID {
    /// Padding: the embedding row that gets no gradient; never a real token.
    public static let pad: Int32 = 0
    /// Unknown word: every token the vocabulary does not hold.
    public static let unknown: Int32 = 1
    /// Start of sentence: the decoder's first input.
    public static let start: Int32 = 2
    /// End of sentence: appended to every target, and where decoding stops.
    public static let end: Int32 = 3
    /// How many ids are reserved (the first ordinary word has id `reservedCount`).
    public static let reservedCount = 4
    /// The spellings of ids 0–3 in vocabulary files and in `--unk keep` output, indexed by id.
    public static let reservedNames = ["<pad>", "<unk>", "<s>", "</s>"]
}
