// Corpus module: see README "Modules".
enum _CorpusPlaceholder {}
