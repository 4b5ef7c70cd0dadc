"""Numbers made readable: formatting, the layer table, charts, diagrams and exports."""
