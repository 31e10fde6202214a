"""Plain-Python machine-learning core of HematoVision (no Django imports)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of logs

# The four white cells the differential counts.
CLASS_NAMES = ("EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL")
# Cells that are none of the four, which the model learns to name instead of forcing them into one of the four
# (PBC's other classes). Never counted in the four-class differential.
OTHER_KINDS = ("BASOPHIL", "IMMATURE_GRANULOCYTE", "ERYTHROBLAST", "PLATELET")
# The model's outputs: the four, then the other kinds. A label is an index into this tuple.
MODEL_CLASSES = CLASS_NAMES + OTHER_KINDS
