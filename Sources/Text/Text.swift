// Text module: see README "Modules".
enum _TextPlaceholder {}
