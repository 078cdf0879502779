// Plotting module: SVG charts drawn from training logs; imports nothing of ours.
enum _PlottingPlaceholder {}
