// Metrics module: see README "Modules".
enum _MetricsPlaceholder {}
