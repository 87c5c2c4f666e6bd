# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""CAMs on the aligned face crop: Grad-CAM against a hand-written one, DAN's
head maps against the neck's own arithmetic, and the tool's images."""

import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip('pytorch_grad_cam')

from fer_mm.apis import FERInferencer  # noqa: E402
from fer_mm.visualization import FaceCAM  # noqa: E402
from tests.helpers.tiny_config import tool_env  # noqa: E402

RESNET = 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'
DAN = 'configs/dan/dan_resnet18_1xb64-8e_synthetic-rafdb.py'
POSTER = 'configs/poster_v2/posterv2_1xb32-5e_synthetic-rafdb.py'


@pytest.fixture(scope='module')
def astronaut():
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def inferencer(repo_root, rel):
    torch.manual_seed(0)  # seeded random weights
    return FERInferencer(osp.join(repo_root, rel), allow_random=True)


def scale(m):
    m = m - m.min()
    return m / (m.max() + 1e-7)


def test_gradcam_on_the_crop_equals_a_hand_written_one(repo_root, astronaut):
    inf = inferencer(repo_root, RESNET)
    cams = FaceCAM(inf)
    # mmpretrain's default target: the backbone's last norm layer
    assert cams.target_layer_names == ['backbone.layer4.1.bn2']
    (res,) = cams(astronaut)
    crop = res['crop']
    assert crop.shape == (100, 100, 3)  # RAF-DB's aligned layout
    assert res['cam'].shape == (100, 100)
    assert res['target'] == res['pred_label']
    assert res['target_class'] == res['pred_class']

    # Grad-CAM by hand: weights = spatial mean of the gradients of the
    # class logit, map = ReLU(sum_k w_k A_k), scaled to [0, 1] at the input
    # size (64 x 64 here), then to the crop's size.
    model = inf.backend.model
    x = cams.preprocess(crop)
    assert x.shape == (1, 3, 64, 64)
    store = {}

    def keep(module, args, out):
        # as pytorch-grad-cam: the output tensor itself (the block's in-place
        # residual add and ReLU change it afterwards) and the gradient
        # reaching it, by a tensor hook
        store['act'] = out.detach()
        out.register_hook(lambda grad: store.update(grad=grad))

    hook = model.backbone.layer4[1].bn2.register_forward_hook(keep)
    logits = model(x, mode='tensor')
    hook.remove()
    logits[0, res['target']].backward()
    act, grad = store['act'], store['grad']
    weights = grad.mean(dim=(2, 3), keepdim=True)
    manual = torch.relu((weights * act).sum(1))[0].numpy()
    manual = scale(cv2.resize(scale(manual), (64, 64)))
    manual = np.clip(cv2.resize(manual, (100, 100)), 0, 1)
    np.testing.assert_allclose(res['cam'], manual, atol=1e-4)
    assert res['cam'].max() - res['cam'].min() > 0.5

    # The overlay is the crop with the map drawn on it.
    diff = np.abs(res['overlay'].astype(int) - crop.astype(int)).mean()
    assert diff > 10
    # Another class, another map.
    other = inf.classes[(res['target'] + 1) % len(inf.classes)]
    (res2,) = cams(astronaut, target_class=other)
    assert res2['target_class'] == other
    assert np.abs(res2['cam'] - res['cam']).max() > 0.05


def test_dan_head_maps_are_the_spatial_attention(repo_root, astronaut):
    inf = inferencer(repo_root, DAN)
    (res,) = inf.cams(astronaut)
    assert len(res['head_maps']) == len(res['head_overlays']) == 4
    model = inf.backend.model
    x = FaceCAM(inf).preprocess(res['crop'])
    with torch.no_grad():
        feat = model.backbone(x)[-1]
        for head, got in zip(model.neck.heads, res['head_maps']):
            sp = head.spatial
            z = sp.conv1x1(feat)
            y = torch.relu(sp.conv3x3(z) + sp.conv1x3(z) + sp.conv3x1(z))
            want = scale(y.sum(1)[0].numpy())
            want = np.clip(cv2.resize(want, (100, 100)), 0, 1)
            np.testing.assert_allclose(got, want, atol=1e-5)
    # the heads attend differently
    assert np.abs(res['head_maps'][0] - res['head_maps'][1]).max() > 0.05


def test_bad_arguments(repo_root, astronaut):
    inf = inferencer(repo_root, RESNET)
    with pytest.raises(ValueError, match='unknown CAM method'):
        FaceCAM(inf, 'no_such_cam')
    with pytest.raises(ValueError, match="unknown class 'Joy'"):
        FaceCAM(inf)(astronaut, target_class='Joy')
    with pytest.raises(AttributeError, match='Cannot get the layer'):
        FaceCAM(inf, target_layers=['backbone.nowhere'])


def test_vis_cam_tool_writes_the_strips(repo_root, astronaut, tmp_path):
    photo = tmp_path / 'astronaut.jpg'
    cv2.imwrite(str(photo), astronaut)
    out = tmp_path / 'cams'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/visualization/vis_cam.py',
            str(photo),
            DAN,
            '--allow-random',
            '--out-dir',
            str(out),
        ],
        cwd=repo_root,
        env=tool_env(repo_root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'gradcam on backbone.layer4.1.bn2' in proc.stdout
    strip = cv2.imread(str(out / 'astronaut_face0.png'))
    # crop, CAM and 4 DAN heads, 224 px each under a 28 px title bar
    assert strip.shape == (252, 6 * 224, 3)
    crop, cam = strip[28:, :224].astype(int), strip[28:, 224:448].astype(int)
    assert np.abs(cam - crop).mean() > 10
    heads = [strip[28:, 224 * k : 224 * (k + 1)] for k in range(2, 6)]
    assert all(np.abs(h.astype(int) - crop).mean() > 10 for h in heads)


def test_window_attention_is_what_the_module_applies():
    from fer_mm.models.utils import WindowCrossAttention
    from fer_mm.visualization import window_attention

    torch.manual_seed(0)
    mod = WindowCrossAttention(embed_dims=16, num_heads=2, window_size=4)
    mod.init_weights()
    mod.eval()
    x, query = torch.randn(2, 16, 16), torch.randn(2, 16, 16)
    with torch.no_grad():
        attn = window_attention(mod, x, query)
        assert attn.shape == (2, 2, 16, 16)
        torch.testing.assert_close(attn.sum(-1), torch.ones(2, 2, 16))
        # the module's output is these weights applied to its values
        v = mod.kv(x).reshape(2, 16, 2, 2, 8)[:, :, 1].transpose(1, 2)
        out = mod.proj((attn @ v).transpose(1, 2).reshape(2, 16, 16))
        torch.testing.assert_close(out, mod(x, query), atol=1e-5, rtol=1e-5)


def test_poster_v2_windows_and_default_layer(repo_root):
    torch.manual_seed(0)
    inf = FERInferencer(
        osp.join(repo_root, POSTER), detector=None, allow_random=True
    )
    cams = FaceCAM(inf)
    # mmpretrain's default (the pooled final_norm) explains no position:
    # the backbone's last feature map instead
    assert cams.target_layer_names == ['backbone.token_embeds.2']
    crop = np.random.default_rng(0).integers(0, 256, (100, 100, 3), np.uint8)
    res = cams.explain_crop(crop)
    assert res['cam'].shape == (100, 100)
    assert res['cam'].max() - res['cam'].min() > 0.5
    # one map per window cross-attention scale, each on the crop
    assert len(res['window_maps']) == len(res['window_overlays']) == 3
    for m, over in zip(res['window_maps'], res['window_overlays']):
        assert m.shape == (100, 100) and m.max() > m.min()
        assert np.abs(over.astype(int) - crop.astype(int)).mean() > 10
