"""Grad-CAM: which part of the cell crop pushed the model towards a class.

The MobileNetV2 base is a nested Keras model, so its last convolutional activations ("out_relu") are
not outputs of the full model. We run the full model's layers one after another, replacing the base by
a sub-model that returns both its last activations and its pooled features; the gradient of the class
score then flows back to those activations inside one ``GradientTape``.
"""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import tensorflow as tf
from PIL import Image

from ml.model import BASE_LAYER_NAME, ensemble_members

LAST_CONV_LAYER_NAME = "out_relu"
OVERLAY_OPACITY = 0.45  # share of the heatmap colour in the overlay; the cell stays visible beneath


def class_score_and_activations(model: keras.Model, images: tf.Tensor, class_index: int, tape: tf.GradientTape):
    """Forward pass layer by layer; returns (score of ``class_index``, last conv activations)."""
    base = model.get_layer(BASE_LAYER_NAME)
    base_with_activations = keras.Model(base.inputs, [base.get_layer(LAST_CONV_LAYER_NAME).output, base.output])
    outputs, activations = images, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layer.name == BASE_LAYER_NAME:
            activations, outputs = base_with_activations(outputs, training=False)
            tape.watch(activations)
        else:
            outputs = layer(outputs, training=False)
    return outputs[:, class_index], activations


def gradcam_heatmap(model: keras.Model, input_uint8: np.ndarray, class_index: int) -> np.ndarray:
    """Grad-CAM of one preprocessed image, in [0, 1], at the resolution of the last conv layer.

    An ensemble's class score is the mean of its members' scores, so its map is the mean of theirs before
    the ReLU (the members share one input and one layout of activations).
    """
    images = tf.constant(input_uint8[None].astype(np.float32))
    maps = []
    for member in ensemble_members(model):
        with tf.GradientTape() as tape:
            score, activations = class_score_and_activations(member, images, class_index, tape)
        channel_weights = tf.reduce_mean(tape.gradient(score, activations), axis=(0, 1, 2))
        maps.append(tf.reduce_sum(activations[0] * channel_weights, axis=-1))
    heatmap = tf.nn.relu(tf.reduce_mean(tf.stack(maps), axis=0)).numpy()
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap


def gradcam_overlay(model: keras.Model, input_uint8: np.ndarray, class_index: int) -> np.ndarray:
    """The model's input with the Grad-CAM heatmap of ``class_index`` blended over it (RGB uint8, same size)."""
    height, width = input_uint8.shape[:2]
    heatmap = gradcam_heatmap(model, input_uint8, class_index).astype(np.float32)
    upsampled = np.asarray(Image.fromarray(heatmap, mode="F").resize((width, height), Image.BILINEAR))
    colours = matplotlib.colormaps["jet"](np.clip(upsampled, 0.0, 1.0))[..., :3] * 255.0
    blended = (1 - OVERLAY_OPACITY) * input_uint8.astype(np.float32) + OVERLAY_OPACITY * colours
    return np.clip(blended, 0, 255).astype(np.uint8)
