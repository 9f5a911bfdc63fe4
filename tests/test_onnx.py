"""ember.onnx: exported graphs pass onnx.checker and run in ONNX Runtime with Ember's numbers."""
import io
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.onnx
from ember import nn
from ember.nn import functional as F

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')


def _rand(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(-2, 2, shape).astype(np.float32))


def _run(proto_bytes, feeds):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(proto_bytes, opts, providers=['CPUExecutionProvider'])
    return sess.run(None, feeds)


def roundtrip(model, args, rtol=1e-4, atol=1e-5, **kw):
    """Export, check, run in ONNX Runtime and compare with Ember's forward; returns the model proto."""
    args = args if isinstance(args, tuple) else (args,)
    buf = io.BytesIO()
    proto = ember.onnx.export(model, args, buf, **kw)
    onnx.checker.check_model(proto)
    if isinstance(model, nn.Module):
        model.eval()
    with ember.no_grad():
        expected = model(*args)
    expected = [expected] if isinstance(expected, ember.Tensor) else list(expected)
    feeds = {i.name: a.numpy() for i, a in zip(proto.graph.input, args)}
    got = _run(buf.getvalue(), feeds)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == tuple(e.shape) and g.dtype == e.numpy().dtype
        np.testing.assert_allclose(g, e.numpy(), rtol=rtol, atol=atol)
    return proto


def _bn(cls, c):
    m = cls(c)
    rng = np.random.default_rng(1)
    m.running_mean.copy_(ember.tensor(rng.normal(size=c).astype(np.float32)))
    m.running_var.copy_(ember.tensor(rng.uniform(0.5, 2, c).astype(np.float32)))
    m.weight.data.copy_(ember.tensor(rng.normal(size=c).astype(np.float32)))
    return m


# one line per converter: (id, model factory, input shape)
MODULES = [
    ('linear2d', lambda: nn.Linear(5, 3), (4, 5)),
    ('linear3d', lambda: nn.Linear(5, 3), (2, 4, 5)),
    ('linear_nobias', lambda: nn.Linear(5, 3, bias=False), (4, 5)),
    ('conv1d', lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ('conv2d_groups_dilation', lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 9, 9)),
    ('conv2d_same', lambda: nn.Conv2d(3, 4, 4, padding='same'), (1, 3, 7, 7)),
    ('conv2d_valid', lambda: nn.Conv2d(3, 4, 3, padding='valid', bias=False), (1, 3, 7, 7)),
    ('conv2d_reflect', lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect'), (1, 3, 6, 6)),
    ('conv2d_replicate', lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode='replicate'), (1, 3, 6, 6)),
    ('conv2d_unbatched', lambda: nn.Conv2d(3, 4, 3), (3, 6, 6)),
    ('conv_transpose2d', lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 5, 5)),
    ('conv_transpose1d', lambda: nn.ConvTranspose1d(3, 2, 4, stride=3, dilation=2), (2, 3, 5)),
    ('batch_norm2d', lambda: _bn(nn.BatchNorm2d, 3), (2, 3, 4, 4)),
    ('batch_norm1d', lambda: _bn(nn.BatchNorm1d, 3), (5, 3)),
    ('layer_norm', lambda: nn.LayerNorm([4, 5]), (2, 3, 4, 5)),
    ('layer_norm_noaffine', lambda: nn.LayerNorm(5, elementwise_affine=False), (2, 5)),
    ('group_norm', lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    ('instance_norm', lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    ('max_pool2d', lambda: nn.MaxPool2d(3, 2, padding=1), (2, 3, 8, 8)),
    ('max_pool2d_ceil', lambda: nn.MaxPool2d(2, 2, ceil_mode=True), (1, 2, 7, 7)),
    ('max_pool1d', lambda: nn.MaxPool1d(2), (1, 2, 7)),
    ('avg_pool2d', lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), (2, 3, 8, 8)),
    ('avg_pool2d_incl', lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    ('adaptive_avg_global', lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    ('adaptive_avg_divisible', lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 4, 6)),
    ('adaptive_avg_repeat', lambda: nn.AdaptiveAvgPool2d((7, 7)), (2, 3, 1, 1)),
    ('adaptive_max', lambda: nn.AdaptiveMaxPool2d((2, 2)), (2, 3, 4, 4)),
    ('dropout', lambda: nn.Sequential(nn.Dropout(0.5), nn.Dropout2d(0.3)), (2, 3, 4, 4)),
    ('flatten', lambda: nn.Flatten(), (2, 3, 4, 4)),
    ('flatten_mid', lambda: nn.Flatten(1, 2), (2, 3, 4, 4)),
    ('prelu', lambda: nn.PReLU(3), (2, 3, 4, 4)),
    ('upsample_nearest', lambda: nn.Upsample(scale_factor=2), (1, 2, 3, 4)),
    ('upsample_nearest_size', lambda: nn.Upsample(size=(5, 7)), (1, 2, 3, 4)),
    ('upsample_bilinear', lambda: nn.Upsample(scale_factor=2, mode='bilinear'), (1, 2, 3, 4)),
    ('upsample_bilinear_ac', lambda: nn.Upsample(size=(5, 6), mode='bilinear', align_corners=True), (1, 2, 3, 4)),
    ('upsampling_bilinear2d', lambda: nn.UpsamplingBilinear2d(scale_factor=3), (1, 2, 3, 4)),
    ('pixel_shuffle', lambda: nn.PixelShuffle(2), (1, 8, 3, 3)),
]


@pytest.mark.parametrize('make,shape', [m[1:] for m in MODULES], ids=[m[0] for m in MODULES])
def test_module_matches_onnxruntime(make, shape):
    ember.manual_seed(0)
    roundtrip(make(), _rand(*shape))


FUNCTIONS = [
    ('relu', lambda x: F.relu(x)),
    ('relu6', lambda x: F.relu6(x * 4)),
    ('leaky_relu', lambda x: F.leaky_relu(x, 0.2)),
    ('elu', lambda x: F.elu(x, 0.7)),
    ('selu', lambda x: F.selu(x)),
    ('celu', lambda x: F.celu(x, 1.3)),
    ('gelu', lambda x: F.gelu(x)),
    ('gelu_tanh', lambda x: F.gelu(x, approximate='tanh')),
    ('silu', lambda x: F.silu(x)),
    ('mish', lambda x: F.mish(x)),
    ('sigmoid', lambda x: ember.sigmoid(x)),
    ('tanh', lambda x: x.tanh()),
    ('hardswish', lambda x: F.hardswish(x * 3)),
    ('hardsigmoid', lambda x: F.hardsigmoid(x * 3)),
    ('hardtanh', lambda x: F.hardtanh(x, -0.5, 0.7)),
    ('softplus', lambda x: F.softplus(x)),
    ('softplus_beta', lambda x: F.softplus(x * 10, beta=2, threshold=5)),
    ('logsigmoid', lambda x: F.logsigmoid(x)),
    ('softsign', lambda x: F.softsign(x)),
    ('threshold', lambda x: F.threshold(x, 0.5, -1.0)),
    ('glu', lambda x: F.glu(x, dim=1)),
    ('softmax', lambda x: F.softmax(x, dim=1)),
    ('log_softmax', lambda x: F.log_softmax(x, -1)),
    ('softmax_method', lambda x: x.softmax(0)),
    ('arith_scalars', lambda x: (x + 1) * 2 - 0.5 / (x.abs() + 1)),
    ('rsub_rdiv_rpow', lambda x: (1 - x) + 2 / (x * x + 1) + 2 ** x),
    ('broadcast', lambda x: x + x[0] * x[:, :1] - x.mean(0)),
    ('pow_sqrt_exp_log', lambda x: x.pow(2) + x.abs().sqrt() + ember.exp(x) - ember.log(x.abs() + 1) + x ** 3),
    ('neg_rsqrt_recip', lambda x: -x + (x.abs() + 1).rsqrt() + (x.abs() + 1).reciprocal()),
    ('div_floor', lambda x: ember.div(x, 0.7, rounding_mode='floor') + ember.div(x, 0.7, rounding_mode='trunc')),
    ('inplace', lambda x: x.clone().mul_(2).add_(1).relu_()),
    ('clamp', lambda x: x.clamp(-0.5, 0.5) + x.clamp(min=0) + x.clamp(max=0.2)),
    ('clamp_tensor', lambda x: ember.clamp(x, min=x[0])),
    ('maximum', lambda x: ember.maximum(x, x[0]) + ember.minimum(x, 0.5 * x)),
    ('where_compare', lambda x: ember.where(x > 0, x, x * 0.1) + (x <= 0.5).float()),
    ('masked_fill', lambda x: x.masked_fill(x < 0, 3.0)),
    ('sum_mean', lambda x: x.sum() + x.mean(1).sum() + x.sum((0, 1), keepdim=True).mean()),
    ('max_all', lambda x: x.max() + x.min()),
    ('max_dim', lambda x: x.max(1)),
    ('min_dim_keep', lambda x: ember.min(x, 0, keepdim=True)),
    ('amax', lambda x: x.amax(1) + x.amin(1)),
    ('argmax', lambda x: x.argmax(1) + x.argmin()),
    ('var_std', lambda x: x.var(1) + x.std(0, unbiased=False).sum() + x.var()),
    ('logsumexp_norm', lambda x: x.logsumexp(1) + x.norm(dim=1) + F.normalize(x, dim=1).sum(1)),
    ('prod_cumsum', lambda x: x.prod(1) + x.cumsum(1)[:, -1]),
    ('squeeze_unsqueeze', lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze(0).squeeze()),
    ('permute_transpose', lambda x: x.reshape(2, 3, 2).permute(2, 0, 1).transpose(0, 2).contiguous()),
    ('movedim', lambda x: x.reshape(2, 3, 2).movedim(0, -1)),
    ('view_reshape', lambda x: x.view(-1).reshape(3, 4).view(2, 6)),
    ('flatten_fn', lambda x: ember.flatten(x.reshape(2, 3, 2), 1)),
    ('cat_stack', lambda x: ember.cat([x, x * 2], dim=1) + ember.stack([x, -x], 0).sum(0).repeat(1, 2)),
    ('cat_mixed_dtype', lambda x: ember.cat([x, (x > 0).float()])),
    ('chunk_split', lambda x: x.chunk(2, 1)[1] * x.split([1, 3], 1)[1][:, :2]),
    ('unbind', lambda x: sum(x.unbind(0))),
    ('index_slice', lambda x: x[1:, ::2] + x[0, 1:3] + x[-1][None, 1:3]),
    ('index_ellipsis', lambda x: x.reshape(3, 2, 2)[..., 0] + x.reshape(3, 2, 2)[:, None, 1].squeeze(1)),
    ('index_tensor', lambda x: x[ember.tensor([2, 0])] + x[:, ember.tensor([1, 1, 0, 3])][:2]),
    ('narrow_select', lambda x: x.narrow(1, 1, 2) + x.select(0, 2)[:2]),
    ('expand_flip', lambda x: x[:, :1].expand(3, 4) + x.flip(0)),
    ('matmul', lambda x: x @ x.t() + ember.mm(x, x.t())),
    ('bmm_einsum', lambda x: ember.bmm(x.reshape(2, 3, 2), x.reshape(2, 2, 3)) +
     ember.einsum('bij,bjk->bik', x.reshape(2, 3, 2), x.reshape(2, 2, 3))),
    ('addmm', lambda x: ember.addmm(x[:, :1], x, x.t(), beta=0.5, alpha=2)),
    ('interpolate_bilinear', lambda x: F.interpolate(x.reshape(1, 1, 3, 4), scale_factor=1.5, mode='bilinear')),
    ('interpolate_nearest_exact', lambda x: F.interpolate(x.reshape(1, 1, 3, 4), size=(5, 9), mode='nearest-exact')),
    ('pad_constant', lambda x: F.pad(x, (1, 2, 0, 1), value=0.5)),
    ('pad_reflect', lambda x: F.pad(x.reshape(1, 3, 4), (2, 1), mode='reflect')),
    ('pad_replicate', lambda x: F.pad(x.reshape(1, 1, 3, 4), (1, 1, 2, 0), mode='replicate')),
    ('gather_index_select', lambda x: x.gather(1, ember.tensor([[0, 1], [2, 3], [1, 1]])).sum(1) +
     x.index_select(1, ember.tensor([3, 0])).sum(1)),
    ('dtype_casts', lambda x: x.double().float() + x.long().float() + x.to(ember.int32).float()),
]


@pytest.mark.parametrize('fn', [f[1] for f in FUNCTIONS], ids=[f[0] for f in FUNCTIONS])
def test_function_matches_onnxruntime(fn):
    roundtrip(fn, _rand(3, 4))


def test_integer_inputs_embedding_and_arithmetic():
    ember.manual_seed(0)
    emb = nn.Embedding(10, 4)
    idx = ember.tensor([[1, 2, 9], [0, 0, 5]])
    roundtrip(emb, idx)
    roundtrip(lambda i: (i * 2 + 1) // 3 - i.sum(1, keepdim=True), idx)
    roundtrip(lambda i: i / 2 + (i % 3), idx)


@pytest.mark.parametrize('mask', ['none', 'causal', 'bool', 'float'])
def test_scaled_dot_product_attention(mask):
    q, k, v = _rand(2, 3, 4, 8), _rand(2, 3, 5, 8, seed=1), _rand(2, 3, 5, 8, seed=2)
    kw = {'causal': {'is_causal': True}, 'bool': {'attn_mask': ember.tensor(np.tril(np.ones((4, 5), bool)))},
          'float': {'attn_mask': _rand(4, 5, seed=3)}, 'none': {'scale': 0.3}}[mask]
    if mask == 'causal':
        k, v = k[:, :, :4], v[:, :, :4]
    roundtrip(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw), (q, k, v))


def test_several_inputs_and_outputs_with_names():
    proto = roundtrip(lambda a, b: (a + b, a * b, ember.cat([a, b])), (_rand(2, 3), _rand(2, 3, seed=1)),
                      input_names=['first', 'second'], output_names=['s', 'p'])
    assert [i.name for i in proto.graph.input] == ['first', 'second']
    assert [o.name for o in proto.graph.output] == ['s', 'p', 'output_2']


def test_seed_model_names_initializers_and_nodes_after_modules():
    from test_seed_models import the_model_class
    ember.manual_seed(0)
    model = the_model_class(ember)
    proto = roundtrip(model, _rand(2, 3, 32, 32))
    assert {i.name for i in proto.graph.initializer} == set(model.state_dict())
    names = [n.name for n in proto.graph.node]
    assert '/conv1/Conv' in names and '/fc3/Gemm' in names and '/pool/MaxPool_1' in names
    assert [i.name for i in proto.graph.input] == ['x'] and [o.name for o in proto.graph.output] == ['output']
    assert proto.opset_import[0].version == 17


def test_dynamic_axes_run_with_batch_1_and_7():
    from test_seed_models import the_model_class
    ember.manual_seed(0)
    model = the_model_class(ember).eval()
    buf = io.BytesIO()
    ember.onnx.export(model, _rand(2, 3, 32, 32), buf, input_names=['x'], output_names=['y'],
                      dynamic_axes={'x': {0: 'batch'}, 'y': [0]})
    proto = onnx.load_model_from_string(buf.getvalue())
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == 'y_dynamic_axes_1'
    for n in (1, 7):
        x = _rand(n, 3, 32, 32, seed=n)
        np.testing.assert_allclose(_run(buf.getvalue(), {'x': x.numpy()})[0], model(x).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_dynamic_batch_through_view_of_size_and_flatten():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3)
            self.fc = nn.Linear(12, 2)

        def forward(self, x):
            y = self.conv(x)
            return self.fc(y.view(y.size(0), -1)) + self.fc(ember.flatten(y, 1))

    ember.manual_seed(0)
    model = Net().eval()
    buf = io.BytesIO()
    ember.onnx.export(model, _rand(4, 2, 4, 4), buf, dynamic_axes={'x': {0: 'n'}})
    for n in (1, 7):
        x = _rand(n, 2, 4, 4, seed=n)
        np.testing.assert_allclose(_run(buf.getvalue(), {'x': x.numpy()})[0], model(x).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('target', ['path', 'str', 'file', 'bytesio'])
def test_export_destinations(tmp_path, target):
    model = nn.Linear(3, 2)
    x = _rand(2, 3)
    path = tmp_path / 'm.onnx'
    if target == 'path':
        ember.onnx.export(model, (x,), path)
    elif target == 'str':
        ember.onnx.export(model, (x,), str(path))
    elif target == 'file':
        with open(path, 'wb') as fh:
            ember.onnx.export(model, (x,), fh)
    else:
        buf = io.BytesIO()
        ember.onnx.export(model, (x,), buf)
        path.write_bytes(buf.getvalue())
    got = _run(path.read_bytes(), {'input': x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5)


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    x = _rand(2, 3)
    buf = io.BytesIO()
    proto = ember.onnx.export(model, (x,), buf, export_params=False)
    assert len(proto.graph.initializer) == 0
    assert [i.name for i in proto.graph.input] == ['input', 'weight', 'bias']
    feeds = {'input': x.numpy(), 'weight': model.weight.detach().numpy(), 'bias': model.bias.detach().numpy()}
    np.testing.assert_allclose(_run(buf.getvalue(), feeds)[0], model(x).detach().numpy(), rtol=1e-5)


def test_keep_initializers_as_inputs_and_opset():
    proto = roundtrip(nn.Linear(3, 2), _rand(2, 3), keep_initializers_as_inputs=True, opset_version=13)
    assert [i.name for i in proto.graph.input] == ['input', 'weight', 'bias']
    assert proto.opset_import[0].version == 13
    roundtrip(nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2)), _rand(2, 3), opset_version=18)
    roundtrip(nn.Conv2d(2, 2, 3, padding=1, padding_mode='circular'), _rand(1, 2, 4, 4), opset_version=19)


def test_constant_folding_of_tensors_built_in_forward():
    def fn(x):
        scale = ember.arange(4.0).reshape(1, 4) * 2 + 1
        return x * scale

    proto = roundtrip(fn, _rand(3, 4))
    assert [n.op_type for n in proto.graph.node] == ['Constant', 'Mul']


def test_shared_module_and_parameter_names():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

        def forward(self, x):
            return self.block(self.block(x))

    ember.manual_seed(0)
    proto = roundtrip(Tied(), _rand(2, 4))
    assert sorted(i.name for i in proto.graph.initializer) == ['block.0.bias', 'block.0.weight']
    assert [n.name for n in proto.graph.node] == ['/block/0/Gemm', '/block/1/Relu', '/block/0/Gemm_1',
                                                  '/block/1/Relu_1']


def test_training_mode_eval_restores_flags_and_training_raises_for_dropout():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model.train()
    buf = io.BytesIO()
    ember.onnx.export(model, _rand(2, 3), buf)
    assert model.training and model[1].training
    with pytest.raises(ember.onnx.errors.SymbolicValueError, match=r"dropout in module '1' \(Dropout\)"):
        ember.onnx.export(model, _rand(2, 3), io.BytesIO(), training=ember.onnx.TrainingMode.TRAINING)
    model.eval()
    ember.onnx.export(model, _rand(2, 3), io.BytesIO(), training=ember.onnx.TrainingMode.PRESERVE)
    assert not model.training


class _Cumprod(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x).cumprod(1)


def test_unsupported_op_names_op_and_module_and_recorders_are_removed():
    originals = (ember.add, ember.Tensor.__add__, F.conv2d, ember.Tensor.__dict__['T'].fget,
                 nn.Conv2d.__dict__['_fn'].__func__)
    outer = nn.Sequential(nn.ReLU(), _Cumprod())
    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError,
                       match=r"operator 'ember.cumprod' to ONNX opset version 17 .*module '1' \(_Cumprod\)"):
        ember.onnx.export(outer, _rand(2, 3), io.BytesIO())
    after = (ember.add, ember.Tensor.__add__, F.conv2d, ember.Tensor.__dict__['T'].fget,
             nn.Conv2d.__dict__['_fn'].__func__)
    assert all(a is b for a, b in zip(originals, after))
    assert not ember.onnx.is_in_onnx_export()


def test_is_in_onnx_export_during_forward():
    seen = []

    def fn(x):
        seen.append(ember.onnx.is_in_onnx_export())
        return x + 1

    ember.onnx.export(fn, _rand(2), io.BytesIO())
    assert seen == [True] and not ember.onnx.is_in_onnx_export()


def test_unrecorded_computation_is_reported():
    def fn(x):
        y = x * 2
        return ember.Tensor.__dict__['detach'](y).__class__.__mro__ and y.as_strided((2,), (1,)) + 1

    # as_strided has no converter and computes without recorded ops
    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError, match="ember.as_strided"):
        ember.onnx.export(fn, _rand(4), io.BytesIO())


def test_view_written_in_place_makes_base_stale():
    def fn(x):
        y = x * 1
        y[0].add_(1)
        return y

    with pytest.raises(ember.onnx.errors.SymbolicValueError, match='changed in place through a view'):
        ember.onnx.export(fn, _rand(2, 3), io.BytesIO())


@pytest.mark.parametrize('kwargs', [{'dynamo': True}, {'custom_opsets': {'x': 1}}, {'dynamic_shapes': {}},
                                    {'operator_export_type': ember.onnx.OperatorExportTypes.ONNX_ATEN},
                                    {'export_modules_as_functions': True}])
def test_arguments_that_cannot_apply_raise(kwargs):
    with pytest.raises(NotImplementedError, match=next(iter(kwargs))):
        ember.onnx.export(nn.Linear(2, 2), _rand(1, 2), io.BytesIO(), **kwargs)


def test_bad_opset_raises():
    with pytest.raises(ValueError, match='opset_version'):
        ember.onnx.export(nn.Linear(2, 2), _rand(1, 2), io.BytesIO(), opset_version=7)


def test_load_weights_roundtrip_and_errors(tmp_path):
    from test_seed_models import the_model_class
    ember.manual_seed(0)
    src = the_model_class(ember)
    path = tmp_path / 'lenet.onnx'
    ember.onnx.export(src, _rand(1, 3, 32, 32), path)
    ember.manual_seed(1)
    dst = the_model_class(ember)
    result = ember.onnx.load_weights(dst, path)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[key].numpy(), value.numpy())
    ember.onnx.load_weights(dst, path.read_bytes())
    with open(path, 'rb') as fh:
        ember.onnx.load_weights(dst, fh)

    wrong = the_model_class(ember)
    wrong.fc3 = nn.Linear(84, 5)
    with pytest.raises(RuntimeError, match=r'size mismatch for fc3.weight: copying a param with shape \[10, 84\]'):
        ember.onnx.load_weights(wrong, path)
    bigger = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match='Missing key'):
        ember.onnx.load_weights(bigger, path)
    res = ember.onnx.load_weights(bigger, path, strict=False)
    assert res.missing_keys == ['0.weight', '0.bias'] and 'conv1.weight' in res.unexpected_keys


def test_load_weights_fills_batch_norm_buffers():
    ember.manual_seed(0)
    src = nn.Sequential(nn.Conv2d(2, 3, 3), _bn(nn.BatchNorm2d, 3))
    proto = ember.onnx.export(src, _rand(1, 2, 5, 5), None)
    dst = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3))
    missing, _ = ember.onnx.load_weights(dst, proto)
    assert missing == ['1.num_batches_tracked']
    np.testing.assert_array_equal(dst[1].running_var.numpy(), src[1].running_var.numpy())


def test_import_ember_does_not_import_onnx():
    code = 'import sys, ember; ember.onnx; print("onnx" in sys.modules, "onnxruntime" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ['False', 'False']


# ---- models of ember.vision.models -------------------------------------------------------------
def _vision(name):
    models = pytest.importorskip('ember.vision.models')
    if not hasattr(models, name):
        pytest.skip(f'ember.vision.models.{name} has not landed yet')
    return getattr(models, name)


@pytest.mark.parametrize('name,size', [('resnet18', 64), ('resnet50', 32),
                                       ('squeezenet1_1', 64), ('densenet121', 32), ('mobilenet_v2', 32),
                                       ('mobilenet_v3_small', 32)])
def test_vision_model_matches_onnxruntime(name, size):
    ember.manual_seed(0)
    model = _vision(name)(num_classes=10).eval()
    roundtrip(model, _rand(2, 3, size, size), rtol=1e-4, atol=1e-4)


def test_vgg_features_and_classifier_structure():
    vgg = pytest.importorskip('ember.vision.models.vgg')
    ember.manual_seed(0)
    model = nn.Sequential(vgg.make_layers(vgg.cfgs['A'], batch_norm=True), nn.AdaptiveAvgPool2d((7, 7)),
                          nn.Flatten(), nn.Linear(512 * 7 * 7, 16), nn.ReLU(True), nn.Dropout(), nn.Linear(16, 10))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.fill_(1.5)
    roundtrip(model, _rand(2, 3, 32, 32), atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize('name,size', [('alexnet', 64)])
def test_large_vision_model_matches_onnxruntime(name, size):
    ember.manual_seed(0)
    model = _vision(name)(num_classes=10).eval()
    roundtrip(model, _rand(1, 3, size, size), rtol=1e-4, atol=1e-4)
