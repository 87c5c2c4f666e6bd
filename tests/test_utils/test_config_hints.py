# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from fer_mm.utils.config_hints import merged_keys_hint, with_hint


def unexpected(cls, key):
    return TypeError(
        f"{cls}.__init__() got an unexpected keyword argument '{key}'"
    )


MODEL = dict(
    type='ImageClassifier',
    backbone=dict(type='mmpretrain.ResNet', depth=18, foo=1),
    neck=[dict(type='GlobalAveragePooling')],
    head=dict(type='ARBExHead', num_classes=7, loss=dict(type='CE')),
)


def test_hint_names_the_part_and_the_fix():
    hint = merged_keys_hint(unexpected('ARBExHead', 'loss'), MODEL)
    assert hint.startswith(
        "model.head has the type ARBExHead and a key 'loss'"
    )
    assert "head=dict(_delete_=True, type='ARBExHead', ...)" in hint
    # a prefixed type, and a part inside a list
    assert merged_keys_hint(unexpected('ResNet', 'foo'), MODEL).startswith(
        'model.backbone has the type ResNet'
    )
    neck = merged_keys_hint(
        unexpected('GlobalAveragePooling', 'dim'),
        dict(neck=[dict(type='GlobalAveragePooling', dim=3)]),
    )
    assert neck.startswith('model.neck[0] has the type GlobalAveragePooling')


def test_no_hint_for_other_errors():
    # the key is in no dict of that type, another message, already hinted
    assert merged_keys_hint(unexpected('ARBExHead', 'topk'), MODEL) is None
    assert merged_keys_hint(unexpected('DANHead', 'loss'), MODEL) is None
    assert merged_keys_hint(TypeError('missing 1 argument'), MODEL) is None
    err = unexpected('ARBExHead', 'loss')
    hinted = with_hint(err, MODEL)
    assert isinstance(hinted, TypeError) and hinted.__cause__ is err
    assert with_hint(hinted, MODEL) is hinted
    other = TypeError('other')
    assert with_hint(other, MODEL) is other
