/// The toolkit's version: written into every file format's header, into BLEU signatures and into
/// the `config.json` of every model folder (as the tool that made it), by the CLI and the library alike.
public let toolkitVersion = "0.1.0"
