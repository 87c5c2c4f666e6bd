# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Browse the dataset of a config, its pipeline applied: mmpretrain's
``tools/visualization/browse_dataset.py`` with fer_mm's datasets, on the
pinned matplotlib.

    python tools/visualization/browse_dataset.py CONFIG -o OUT_DIR --not-show \
        [--phase train|val|test] [--mode original|transformed|concat|pipeline] \
        [--show-number N] [--cfg-options k=v ...]

The arguments are mmpretrain's (``--help``). One image per sample is written
to ``OUT_DIR`` under the sample's file name, its label drawn on it.
mmpretrain's script calls ``matplotlib``'s ``adjust_bbox(fig, bbox)``, which
in the pinned matplotlib (3.11) requires a third argument, the renderer; only
that call is adapted here, the rest is mmpretrain's code as installed.
"""

import importlib.util
import inspect
import os.path as osp
import sys
import warnings

import fer_mm  # noqa: F401  (registers fer_mm's datasets and transforms)


def load_mmpretrain_script(name: str = 'browse_dataset'):
    """mmpretrain's ``tools/visualization/<name>.py`` as a module (the
    installed package carries its tools in ``mmpretrain/.mim``)."""
    import mmpretrain

    path = osp.join(
        osp.dirname(mmpretrain.__file__),
        '.mim',
        'tools',
        'visualization',
        f'{name}.py',
    )
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mmpretrain {mmpretrain.__version__} has no {path}: install '
            'mmpretrain from its wheel, which carries its tools'
        )
    spec = importlib.util.spec_from_file_location(f'mmpretrain_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit_adjust_bbox(module) -> bool:
    """Give ``module.adjust_bbox`` the renderer newer matplotlib requires.

    Returns:
        bool: Whether it had to be adapted.
    """
    original = module.adjust_bbox
    renderer = inspect.signature(original).parameters.get('renderer')
    if renderer is None or renderer.default is not inspect.Parameter.empty:
        return False

    def adjust_bbox(fig, bbox_inches, renderer=None, fixed_dpi=None):
        if renderer is None:
            renderer = fig.canvas.get_renderer()
        return original(fig, bbox_inches, renderer, fixed_dpi)

    module.adjust_bbox = adjust_bbox
    return True


def main(argv=None):
    # The script builds its visualizer without a save_dir (it writes with
    # out_file), so mmengine says it cannot add the config's LocalVisBackend.
    warnings.filterwarnings(
        'ignore',
        message=r"Failed to add <class 'mmengine\.visualization\.vis_backend"
        r"\.LocalVisBackend'>, please provide the `save_dir` argument",
        category=UserWarning,
        module=r'mmengine\.visualization\.visualizer$',
    )
    script = load_mmpretrain_script('browse_dataset')
    fit_adjust_bbox(script)
    if argv is not None:
        sys.argv = [script.__file__, *argv]
    script.main()


if __name__ == '__main__':
    main()
