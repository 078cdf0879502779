// Decoding module: see README "Modules".
enum _DecodingPlaceholder {}
