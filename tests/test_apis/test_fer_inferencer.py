# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""FERInferencer on real photographs, folders, arrays and bad input."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from fer_mm.apis import FERInferencer
from fer_mm.apis.export import export_onnx
from fer_mm.apis.face import FaceAligner, MTCNNDetector
from fer_mm.apis.model import build_classifier

from .conftest import CKPT_CLASSES, DAN, RESNET

KEYS = {
    'pred_scores',
    'class_scores',
    'pred_label',
    'pred_score',
    'pred_class',
    'bbox',
    'landmarks',
    'det_score',
}


def expected_scores(model, crop, size=64):
    """The model's probabilities for one aligned crop, computed with plain
    OpenCV + torch (resize, BGR->RGB, mean/std, forward, softmax)."""
    x = cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)
    x = torch.from_numpy(x[..., ::-1].copy()).permute(2, 0, 1).float()[None]
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    with torch.no_grad():
        return model((x - mean) / std, mode='tensor').softmax(-1)[0].numpy()


def test_astronaut_one_face(
    inferencer, astronaut, repo_root, resnet_checkpoint
):
    faces = inferencer(astronaut)
    assert isinstance(faces, list) and len(faces) == 1
    face = faces[0]
    assert set(face) == KEYS
    probs = face['pred_scores']
    assert probs.shape == (7,)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert face['pred_label'] == int(np.argmax(probs))
    # The same probabilities by class name, in the classes' order.
    assert list(face['class_scores']) == CKPT_CLASSES
    assert list(face['class_scores'].values()) == pytest.approx(
        probs.tolist(), abs=1e-7
    )
    assert face['pred_score'] == pytest.approx(probs.max())
    # Class names come from the checkpoint's dataset_meta.
    assert face['pred_class'] == CKPT_CLASSES[face['pred_label']]
    x1, y1, x2, y2 = face['bbox']
    assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 512
    marks = face['landmarks']
    assert (
        (marks[:, 0] >= x1)
        & (marks[:, 0] <= x2)
        & (marks[:, 1] >= y1)
        & (marks[:, 1] <= y2)
    ).all()
    assert 0.9 < face['det_score'] <= 1.0
    # The probabilities are the model's on the aligned crop.
    model, _, _ = build_classifier(
        osp.join(repo_root, RESNET), resnet_checkpoint
    )
    crop, _ = FaceAligner('rafdb').align(
        astronaut, MTCNNDetector().detect(astronaut).landmarks[0]
    )
    np.testing.assert_allclose(probs, expected_scores(model, crop), atol=1e-5)
    # Not uniform: the checkpoint was actually loaded.
    assert probs.max() - probs.min() > 0.05


def test_coffee_no_face_and_lists(inferencer, astronaut, coffee):
    assert inferencer(coffee) == []
    both = inferencer([astronaut, coffee])
    assert [r['image'] for r in both] == ['array_0', 'array_1']
    assert [r['num_faces'] for r in both] == [1, 0]
    assert [len(r['faces']) for r in both] == [1, 0]
    assert inferencer.stats['no_face'] == ['array_1']
    np.testing.assert_allclose(
        both[0]['faces'][0]['pred_scores'],
        inferencer(astronaut)[0]['pred_scores'],
        atol=1e-6,
    )


def test_folder_skips_non_images(inferencer, astronaut, coffee, tmp_path):
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a_astronaut.jpg'), astronaut)
    cv2.imwrite(str(folder / 'b_coffee.png'), coffee)
    (folder / 'notes.txt').write_text('not an image')
    (folder / 'c_broken.jpg').write_bytes(b'\xff\xd8 truncated')
    out = tmp_path / 'out'
    results = inferencer(str(folder), out_dir=str(out))
    # One record per readable image, named by its path, in sorted order.
    assert [r['image'] for r in results] == [
        str(folder / 'a_astronaut.jpg'),
        str(folder / 'b_coffee.png'),
    ]
    assert [len(r['faces']) for r in results] == [1, 0]
    stats = inferencer.stats
    assert stats['images'] == 2 and stats['faces'] == 1
    assert sorted(osp.basename(p) for p in stats['skipped']) == [
        'c_broken.jpg',
        'notes.txt',
    ]
    assert stats['no_face'] == [str(folder / 'b_coffee.png')]
    assert sorted(os.listdir(out / 'vis')) == [
        'a_astronaut.jpg',
        'b_coffee.jpg',
    ]
    drawn = cv2.imread(str(out / 'vis' / 'a_astronaut.jpg'))
    x1, y1, x2, y2 = (int(v) for v in results[0]['faces'][0]['bbox'])
    # Something was drawn around the face, nothing far from it.
    assert (
        np.abs(
            drawn[y1 - 3 : y2 + 3, x1 - 3 : x2 + 3].astype(int)
            - cv2.imread(str(folder / 'a_astronaut.jpg'))[
                y1 - 3 : y2 + 3, x1 - 3 : x2 + 3
            ]
        ).max()
        > 100
    )


def test_dataframe_one_row_per_face(inferencer, astronaut, coffee, tmp_path):
    pytest.importorskip('pandas')
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a.png'), astronaut)
    cv2.imwrite(str(folder / 'b.png'), coffee)
    results = inferencer(str(folder))
    table = inferencer.to_dataframe(results)
    marks = [
        f'{p}_{c}'
        for p in ('leye', 'reye', 'nose', 'lmouth', 'rmouth')
        for c in 'xy'
    ]
    probs = [f'p_{c}' for c in CKPT_CLASSES]
    assert list(table.columns) == [
        'image', 'face', 'track_id', 'det_score', 'x1', 'y1', 'x2', 'y2',
        'pred_label', 'pred_class', 'pred_score', *marks, *probs,
    ]  # fmt: skip
    # The astronaut's face, then one empty row for the coffee (as the CSV).
    assert table['image'].tolist() == [
        str(folder / 'a.png'),
        str(folder / 'b.png'),
    ]
    face = results[0]['faces'][0]
    row = table.iloc[0]
    assert row['face'] == 0 and row['pred_class'] == face['pred_class']
    assert row['pred_label'] == face['pred_label']
    np.testing.assert_allclose(
        row[probs].to_numpy(float), face['pred_scores'], rtol=1e-6
    )
    np.testing.assert_allclose(
        row[['x1', 'y1', 'x2', 'y2']].to_numpy(float), face['bbox'], rtol=1e-6
    )
    np.testing.assert_allclose(
        row[marks].to_numpy(float), face['landmarks'].reshape(-1), rtol=1e-6
    )
    assert row['det_score'] == pytest.approx(face['det_score'])
    assert table.iloc[1][['face', 'pred_class', *probs]].isna().all()
    # One image's face list gives the same row.
    single = inferencer.to_dataframe(inferencer(astronaut))
    assert len(single) == 1
    np.testing.assert_allclose(
        single[probs].to_numpy(float)[0], row[probs].to_numpy(float), atol=1e-6
    )


def test_bad_inputs_raise_and_write_nothing(inferencer, astronaut, tmp_path):
    bad = tmp_path / 'bad.jpg'
    bad.write_text('plain text')
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match='cannot read image .*bad.jpg'):
        inferencer([astronaut, str(bad)], out_dir=str(out))
    assert not out.exists() or os.listdir(out) == []
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        inferencer(str(tmp_path / 'missing.jpg'))
    with pytest.raises(ValueError, match='\\(H, W, 3\\)'):
        inferencer(np.zeros((5, 5, 4), np.uint8))


def test_no_detect_classifies_the_whole_crop(
    repo_root, resnet_checkpoint, astronaut
):
    inf = FERInferencer(
        osp.join(repo_root, RESNET), resnet_checkpoint, detector=None
    )
    crop = cv2.resize(astronaut[60:180, 170:280], (100, 100))
    (face,) = inf(crop)
    np.testing.assert_allclose(face['bbox'], [0, 0, 100, 100])
    assert face['landmarks'] is None and face['det_score'] is None
    model, _, _ = build_classifier(
        osp.join(repo_root, RESNET), resnet_checkpoint
    )
    np.testing.assert_allclose(
        face['pred_scores'], expected_scores(model, crop), atol=1e-5
    )


def test_checkpoint_of_another_model_names_keys(repo_root, resnet_checkpoint):
    dan, _, _ = build_classifier(osp.join(repo_root, DAN))
    res, _, _ = build_classifier(osp.join(repo_root, RESNET))
    missing = sorted(set(dan.state_dict()) - set(res.state_dict()))
    with pytest.raises(ValueError, match='does not fit') as err:
        FERInferencer(osp.join(repo_root, DAN), resnet_checkpoint)
    assert missing[0] in str(err.value)


def test_model_index_name_and_unknown_name(repo_root):
    inf = FERInferencer('resnet18_1xb64-30e_synthetic-rafdb', detector=None)
    assert len(inf.classes) == 7
    with pytest.raises(ValueError, match='neither a config file nor a name'):
        FERInferencer('no_such_model')


def test_onnx_backend_matches_pytorch(
    inferencer, repo_root, resnet_checkpoint, astronaut, tmp_path
):
    model, cfg, classes = build_classifier(
        osp.join(repo_root, RESNET), resnet_checkpoint
    )
    onnx_file = str(tmp_path / 'resnet.onnx')
    export_onnx(model, onnx_file, (64, 64), classes, cfg)
    faces = FERInferencer(onnx_file)(astronaut)
    ref = inferencer(astronaut)
    assert len(faces) == 1
    np.testing.assert_allclose(
        faces[0]['pred_scores'], ref[0]['pred_scores'], atol=1e-5
    )
    assert faces[0]['pred_class'] == ref[0]['pred_class']
    with pytest.raises(ValueError, match='carries its weights'):
        FERInferencer(onnx_file, resnet_checkpoint)


def test_return_crops_gives_the_crop_classified(
    inferencer, astronaut, coffee, tmp_path
):
    """``return_crops`` hands back the aligned crop the model saw (the warp
    of the image by the face's 5 points), and the crop writer pops it and
    names it in RAF-DB's aligned style."""
    from fer_mm.apis.crops import crop_name, pop_and_write_crops

    assert 'crop' not in inferencer(astronaut)[0]
    inferencer.return_crops = True
    try:
        (face,) = inferencer(astronaut)
        assert inferencer(coffee) == []
    finally:
        inferencer.return_crops = False
    crop = face['crop']
    want, _ = FaceAligner('rafdb').align(astronaut, face['landmarks'])
    np.testing.assert_array_equal(crop, want)
    np.testing.assert_allclose(
        inferencer.classify_crops([crop])[0], face['pred_scores'], atol=1e-6
    )
    written = pop_and_write_crops(
        [face], lambda k: str(tmp_path / crop_name('dir/astro.png', None, k))
    )
    assert written == [str(tmp_path / 'astro_aligned.jpg')]
    assert 'crop' not in face
    assert cv2.imread(written[0]).shape == (100, 100, 3)
    assert crop_name('clip', 0, 0) == 'clip/00001.jpg'
    assert crop_name('clip', 9, 1) == 'clip/00010_1.jpg'
