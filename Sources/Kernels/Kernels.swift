// Kernels module: see README "Modules".
enum _KernelsPlaceholder {}
