// Model module: see README "Modules".
enum _ModelPlaceholder {}
