# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import json
import os
import os.path as osp
import tempfile
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from ...datasets.fingerprint import dataset_fingerprint


def _leaf_datasets(dataset) -> List:
    """The datasets inside dataset wrappers (Repeat, Concat, ...)."""
    if hasattr(dataset, 'datasets'):
        return [d for sub in dataset.datasets for d in _leaf_datasets(sub)]
    if hasattr(dataset, 'dataset') and not hasattr(dataset, 'data_list'):
        return _leaf_datasets(dataset.dataset)
    return [dataset]


@HOOKS.register_module()
class DatasetFingerprintHook(Hook):
    """Write the fingerprints of a run's datasets into its work directory.

    Before the run, the fingerprint of every built dataset of the train, val
    and test loops (:mod:`fer_mm.datasets.fingerprint`: counts, image size,
    digest of the ``(file, label)`` list, and whether it matches the
    published split) goes to ``<work_dir>/dataset_fingerprint.json``, next to
    the config mmengine dumps there, so two runs can be compared by their
    data as well as their config. Loops of a ``test`` run leave the entries
    of an earlier ``train`` run in the same folder in place. Written whole
    (temporary file and rename) by the main process only.

    Args:
        filename (str): File name in the work directory. Defaults to
            ``'dataset_fingerprint.json'``.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'dataset_fingerprint.json') -> None:
        self.filename = filename

    def before_run(self, runner) -> None:
        if not is_main_process():
            return
        entries = {}
        for mode in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{mode}_loop', None)
            if not isinstance(loop, BaseLoop):
                continue  # not built in this run (e.g. train in a test run)
            dataloader = getattr(loop, 'dataloader', None)
            if dataloader is None:
                continue
            fps = []
            for ds in _leaf_datasets(dataloader.dataset):
                fp = getattr(ds, 'fingerprint', None)
                if fp is not None and fp['num_samples'] != len(ds):
                    fp = None  # a subset copied its parent's fingerprint
                if fp is None and hasattr(ds, 'get_gt_labels'):
                    fp = dataset_fingerprint(ds)
                if fp is not None:
                    fps.append(
                        dict(fp, data_root=getattr(ds, 'data_root', ''))
                    )
            entries[mode] = fps
        if not entries:
            return
        path = osp.join(runner.work_dir, self.filename)
        data = {}
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        data.update(entries)
        fd, tmp = tempfile.mkstemp(
            dir=runner.work_dir, prefix='.' + self.filename, suffix='.tmp'
        )
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=1, sort_keys=True, default=str)
            f.write('\n')
        os.replace(tmp, path)
        runner.logger.info(f'dataset fingerprints written to {path}')
