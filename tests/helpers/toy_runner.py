# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A tiny in-process mmengine Runner (a linear model on random vectors)."""

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset


class ToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.fc(torch.stack(list(inputs)))
        if mode == 'loss':
            return dict(
                loss=torch.nn.functional.cross_entropy(
                    out, torch.stack(list(labels))
                )
            )
        return out


class ToyDataset(Dataset):
    def __init__(self, n=8):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=gen)
        self.y = torch.randint(0, 2, (n,), generator=gen)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], labels=self.y[i])


def toy_runner(work_dir, max_epochs=2, checkpoint=None, **kwargs):
    """A Runner over 8 samples, batch 4 (2 iterations per epoch).

    Each runner gets its own experiment name: mmengine's message hub is a
    global instance per name, and two runners started in the same second
    would otherwise share one (and its checkpoint bookkeeping).
    """
    import uuid

    kwargs.setdefault('experiment_name', f'toy_{uuid.uuid4().hex}')
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0,
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=checkpoint, logger=None),
        randomness=dict(seed=0),
        default_scope='mmpretrain',
        **kwargs,
    )
