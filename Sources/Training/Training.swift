// Training module: see README "Modules".
enum _TrainingPlaceholder {}
