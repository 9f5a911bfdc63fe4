"""Recurrent layers: one fused op per layer and direction, and PyTorch's functional entry points
(``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` and their ``*_cell`` forms).

A layer runs over *packed* rows: ``input`` is ``(N, input_size)`` holding time step ``t``'s
``batch_sizes[t]`` rows at ``offsets[t]``, ``batch_sizes`` non-increasing (a padded
``(T, B, *)`` batch is the case ``batch_sizes = [B] * T``). The state arrays ``h``/``c`` hold one
row per sequence; step ``t`` updates rows ``[:batch_sizes[t]]``, so a finished sequence keeps its
last state (the forward direction) and a sequence not yet started keeps ``h_0`` (the reverse
direction, which walks ``t`` downwards).

Forward: ONE GEMM projects every step's input (``x @ W_ih^T``); each step then does one GEMM for
the hidden projection and the gate nonlinearities in place with NumPy ufuncs. The activated
gates, the previous states and ``tanh(c)`` are kept for backward.

Backward (``RNNLayerBackward0``) is BPTT in NumPy: one pass over the steps in reverse, with one
GEMM per step for ``dh_prev = dgates @ W_hh``; the pre-activation gradients of all steps land in
one ``(N, gates)`` array, so ``dW_ih``, ``dW_hh``, the biases and ``dx`` are each one GEMM or sum at
the end. Memory is linear in the number of steps and nothing recurses. Under ``create_graph``
the node instead differentiates the same layer written with Ember ops (``_layer_composite``), so
second derivatives are exact.
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _grad_enabled
from ..autograd.graph import Node, grad_edge

_CHUNKS = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


def _sigmoid_(a):
    """Logistic sigmoid of ``a`` in place (as ``1 / (1 + exp(-a))``, PyTorch's formula)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _offsets(batch_sizes):
    offs = [0]
    for b in batch_sizes:
        offs.append(offs[-1] + b)
    return offs


def _layer_forward(mode, x, bs, h0, c0, wih, whh, bih, bhh, whr, reverse, keep):
    """NumPy forward of one layer. Returns ``(out, h_n, c_n, saved)`` (``saved`` None unless ``keep``)."""
    dt = x.dtype
    n = x.shape[0]
    offs = _offsets(bs)
    steps = range(len(bs) - 1, -1, -1) if reverse else range(len(bs))
    hsz = whh.shape[0] // _CHUNKS[mode]
    hout = whh.shape[1]
    gates = np.matmul(x, wih.T)
    if mode == 'GRU':
        if bih is not None:
            gates += bih
    elif bih is not None and bhh is not None:
        gates += bih + bhh
    elif bih is not None or bhh is not None:  # the cell functions accept either bias alone
        gates += bih if bih is not None else bhh
    whh_t = whh.T
    h = np.array(h0, dtype=dt, copy=True, like=x)
    out = np.empty((n, hout), dt, like=x)
    hprev = np.empty((n, hout), dt, like=x) if keep else None
    bmax = h.shape[0]
    tmp_g = np.empty((bmax, whh.shape[0]), dt, like=x)
    saved = None
    if mode == 'LSTM':
        c = np.array(c0, dtype=dt, copy=True, like=x)
        cprev = np.empty((n, hsz), dt, like=x) if keep else None
        tanhc = np.empty((n, hsz), dt, like=x) if keep else np.empty((bmax, hsz), dt, like=x)
        r_all = None
        if whr is not None:
            whr_t = whr.T
            r_all = np.empty((n, hsz), dt, like=x) if keep else np.empty((bmax, hsz), dt, like=x)
        tmp = np.empty((bmax, hsz), dt, like=x)
        for t in steps:
            b = bs[t]
            s = offs[t]
            e = s + b
            hp = h[:b]
            cb = c[:b]
            if keep:
                hprev[s:e] = hp
                cprev[s:e] = cb
            g = gates[s:e]
            tg = tmp_g[:b]
            np.matmul(hp, whh_t, out=tg)
            g += tg
            _sigmoid_(g[:, :2 * hsz])
            np.tanh(g[:, 2 * hsz:3 * hsz], out=g[:, 2 * hsz:3 * hsz])
            _sigmoid_(g[:, 3 * hsz:])
            cb *= g[:, hsz:2 * hsz]
            tb = tmp[:b]
            np.multiply(g[:, :hsz], g[:, 2 * hsz:3 * hsz], out=tb)
            cb += tb
            tc = tanhc[s:e] if keep else tanhc[:b]
            np.tanh(cb, out=tc)
            if whr is None:
                np.multiply(g[:, 3 * hsz:], tc, out=out[s:e])
            else:
                r = r_all[s:e] if keep else r_all[:b]
                np.multiply(g[:, 3 * hsz:], tc, out=r)
                np.matmul(r, whr_t, out=out[s:e])
            h[:b] = out[s:e]
        if keep:
            saved = (gates, hprev, cprev, tanhc, r_all)
        return out, h, c, saved
    if mode == 'GRU':
        ghn = np.empty((n, hsz), dt, like=x) if keep else None
        tmp = np.empty((bmax, hsz), dt, like=x)
        for t in steps:
            b = bs[t]
            s = offs[t]
            e = s + b
            hp = h[:b]
            if keep:
                hprev[s:e] = hp
            g = gates[s:e]
            gh = tmp_g[:b]
            np.matmul(hp, whh_t, out=gh)
            if bhh is not None:
                gh += bhh
            rz = g[:, :2 * hsz]
            rz += gh[:, :2 * hsz]
            _sigmoid_(rz)
            if keep:
                ghn[s:e] = gh[:, 2 * hsz:]
            nn = g[:, 2 * hsz:]
            tb = tmp[:b]
            np.multiply(g[:, :hsz], gh[:, 2 * hsz:], out=tb)
            nn += tb
            np.tanh(nn, out=nn)
            o = out[s:e]
            np.subtract(hp, nn, out=o)
            o *= g[:, hsz:2 * hsz]
            o += nn
            h[:b] = o
        if keep:
            saved = (gates, hprev, ghn)
        return out, h, None, saved
    relu = mode == 'RNN_RELU'
    for t in steps:
        b = bs[t]
        s = offs[t]
        e = s + b
        hp = h[:b]
        if keep:
            hprev[s:e] = hp
        g = gates[s:e]
        tg = tmp_g[:b]
        np.matmul(hp, whh_t, out=tg)
        g += tg
        if relu:
            np.maximum(g, 0, out=g)
        else:
            np.tanh(g, out=g)
        out[s:e] = g
        h[:b] = g
    if keep:
        saved = (gates, hprev)
    return out, h, None, saved


def _layer_backward(node, x, wih, whh, whr, dout, dhn, dcn):
    """NumPy BPTT of one layer: returns ``(dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dW_hr)``."""
    mode = node.mode
    bs = node.batch_sizes
    offs = _offsets(bs)
    steps = range(len(bs)) if node.reverse else range(len(bs) - 1, -1, -1)  # reverse of forward order
    dt = x.dtype
    n = x.shape[0]
    hsz = whh.shape[0] // _CHUNKS[mode]
    bmax = node.bmax
    dh = np.zeros((bmax, whh.shape[1]), dt, like=x) if dhn is None else np.array(dhn, dtype=dt, copy=True, like=x)
    dc = None
    dgh = None
    saved = node.arrays
    dgates = np.empty((n, whh.shape[0]), dt, like=x)
    dwhr = None
    if mode == 'LSTM':
        gates, hprev, cprev, tanhc, r_all = saved
        dc = np.zeros((bmax, hsz), dt, like=x) if dcn is None else np.array(dcn, dtype=dt, copy=True, like=x)
        dh_all = np.empty((n, whh.shape[1]), dt, like=x) if whr is not None else None
        tmp = np.empty((bmax, hsz), dt, like=x)
        tmp2 = np.empty((bmax, 2 * hsz), dt, like=x)
        for t in steps:
            b = bs[t]
            s = offs[t]
            e = s + b
            dhb = dh[:b]
            if dout is not None:
                dhb += dout[s:e]
            if whr is not None:
                dh_all[s:e] = dhb
                dr = dhb @ whr
            else:
                dr = dhb
            g = gates[s:e]
            i, f, gg, o = g[:, :hsz], g[:, hsz:2 * hsz], g[:, 2 * hsz:3 * hsz], g[:, 3 * hsz:]
            tc = tanhc[s:e]
            d = dgates[s:e]
            di, df, dg, do = d[:, :hsz], d[:, hsz:2 * hsz], d[:, 2 * hsz:3 * hsz], d[:, 3 * hsz:]
            tb = tmp[:b]
            # do = dr * tanh(c) * o(1 - o)
            np.multiply(dr, tc, out=do)
            np.subtract(1, o, out=tb)
            tb *= o
            do *= tb
            # dc += dr * o * (1 - tanh(c)^2)
            dcb = dc[:b]
            np.multiply(tc, tc, out=tb)
            np.subtract(1, tb, out=tb)
            tb *= o
            tb *= dr
            dcb += tb
            np.multiply(dcb, gg, out=di)
            np.multiply(dcb, i, out=dg)
            np.multiply(dcb, cprev[s:e], out=df)
            dcb *= f
            t2 = tmp2[:b]
            np.subtract(1, g[:, :2 * hsz], out=t2)
            t2 *= g[:, :2 * hsz]
            d[:, :2 * hsz] *= t2
            np.multiply(gg, gg, out=tb)
            np.subtract(1, tb, out=tb)
            dg *= tb
            np.matmul(d, whh, out=dhb)
        if whr is not None and node.needs[7]:
            dwhr = dh_all.T @ r_all
    elif mode == 'GRU':
        gates, hprev, ghn = saved
        dgh = np.empty((n, whh.shape[0]), dt, like=x)
        tmp = np.empty((bmax, hsz), dt, like=x)
        tmp_h = np.empty((bmax, whh.shape[1]), dt, like=x)
        for t in steps:
            b = bs[t]
            s = offs[t]
            e = s + b
            dhb = dh[:b]
            if dout is not None:
                dhb += dout[s:e]
            g = gates[s:e]
            r, z, nn = g[:, :hsz], g[:, hsz:2 * hsz], g[:, 2 * hsz:]
            d = dgates[s:e]
            dr, dz, dn = d[:, :hsz], d[:, hsz:2 * hsz], d[:, 2 * hsz:]
            tb = tmp[:b]
            # h' = n + z * (h - n)
            np.subtract(hprev[s:e], nn, out=dz)
            dz *= dhb
            np.subtract(1, z, out=tb)
            tb *= z
            dz *= tb
            np.subtract(1, z, out=dn)
            dn *= dhb
            np.multiply(nn, nn, out=tb)
            np.subtract(1, tb, out=tb)
            dn *= tb
            np.multiply(dn, ghn[s:e], out=dr)
            np.subtract(1, r, out=tb)
            tb *= r
            dr *= tb
            dh_ = dgh[s:e]
            dh_[:, :2 * hsz] = d[:, :2 * hsz]
            np.multiply(dn, r, out=dh_[:, 2 * hsz:])
            th = tmp_h[:b]
            np.multiply(dhb, z, out=th)
            np.matmul(dh_, whh, out=dhb)
            dhb += th
    else:
        gates, hprev = saved
        relu = mode == 'RNN_RELU'
        for t in steps:
            b = bs[t]
            s = offs[t]
            e = s + b
            dhb = dh[:b]
            if dout is not None:
                dhb += dout[s:e]
            g = gates[s:e]
            d = dgates[s:e]
            if relu:
                np.multiply(dhb, g > 0, out=d)
            else:
                np.multiply(g, g, out=d)
                np.subtract(1, d, out=d)
                d *= dhb
            np.matmul(d, whh, out=dhb)
    hprev = saved[1]
    needs = node.needs
    dx = dgates @ wih if needs[0] else None
    dwih = dgates.T @ x if needs[3] else None
    dgh_ = dgates if dgh is None else dgh
    dwhh = dgh_.T @ hprev if needs[4] else None
    dbih = dgates.sum(0) if needs[5] else None
    dbhh = dgh_.sum(0) if needs[6] else None
    return dx, dh, dc, dwih, dwhh, dbih, dbhh, dwhr


class RNNLayerBackward0(Node):
    """BPTT through one fused recurrent layer (one direction).

    Edges: ``input, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr``; outputs ``output, h_n, c_n``
    (``c_n`` for LSTM only).
    """

    __slots__ = ('mode', 'batch_sizes', 'reverse', 'arrays', 'needs', 'bmax')

    def name(self):
        return {'LSTM': 'LstmLayerBackward0', 'GRU': 'GruLayerBackward0', 'RNN_TANH': 'RnnTanhLayerBackward0',
                'RNN_RELU': 'RnnReluLayerBackward0'}[self.mode]

    def backward(self, grads):
        x, h0, c0, wih, whh, bih, bhh, whr = self.saved()
        if _grad_enabled():
            return self._double_differentiable(grads, (x, h0, c0, wih, whh, bih, bhh, whr))
        dout, dhn = grads[0], grads[1]
        dcn = grads[2] if self.mode == 'LSTM' else None
        res = _layer_backward(self, x._data, wih._data, whh._data, None if whr is None else whr._data,
                              None if dout is None else dout._data, None if dhn is None else dhn._data,
                              None if dcn is None else dcn._data)
        return tuple(None if (a is None or not need) else _wrap(a) for a, need in zip(res, self.needs))

    def _double_differentiable(self, grads, inputs):
        from .. import autograd
        outs = _layer_composite(self.mode, self.batch_sizes, *inputs, self.reverse)
        pairs = [(o, g) for o, g in zip(outs, grads) if o is not None and g is not None]
        wanted = [t for t, need in zip(inputs, self.needs) if need]
        if not pairs:
            return (None,) * len(inputs)
        res = iter(autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True,
                                 allow_unused=True))
        return tuple(next(res) if need else None for need in self.needs)


def _layer_composite(mode, bs, x, h0, c0, wih, whh, bih, bhh, whr, reverse):
    """The same layer written with differentiable Ember ops, step by step (for double backward)."""
    from .join import cat
    offs = _offsets(bs)
    steps = range(len(bs) - 1, -1, -1) if reverse else range(len(bs))
    xp = x @ wih.t()
    if bih is not None:
        xp = xp + bih
    h, c = h0, c0
    bmax = h0.shape[0]
    outs = [None] * len(bs)
    for t in steps:
        b = bs[t]
        xt = xp[offs[t]:offs[t] + b]
        hp = h[:b]
        gh = hp @ whh.t()
        if bhh is not None:
            gh = gh + bhh
        if mode == 'LSTM':
            i, f, g, o = (xt + gh).chunk(4, 1)
            cn = f.sigmoid() * c[:b] + i.sigmoid() * g.tanh()
            hn = o.sigmoid() * cn.tanh()
            if whr is not None:
                hn = hn @ whr.t()
            c = cn if b == bmax else cat([cn, c[b:]], 0)
        elif mode == 'GRU':
            xr, xz, xn = xt.chunk(3, 1)
            hr, hz, hn_ = gh.chunk(3, 1)
            r = (xr + hr).sigmoid()
            z = (xz + hz).sigmoid()
            nn = (xn + r * hn_).tanh()
            hn = nn + z * (hp - nn)
        else:
            pre = xt + gh
            hn = pre.relu() if mode == 'RNN_RELU' else pre.tanh()
        outs[t] = hn
        h = hn if b == bmax else cat([hn, h[b:]], 0)
    return cat(outs, 0), h, (c if mode == 'LSTM' else None)


def rnn_layer(mode, input, batch_sizes, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, reverse=False):
    """One recurrent layer in one direction over packed rows.

    ``input`` ``(N, input_size)`` holds ``batch_sizes[t]`` rows per step (non-increasing);
    ``hx`` ``(B, H_out)``, ``cx`` ``(B, hidden)`` (LSTM only), ``B = batch_sizes[0]``. Gate order is
    PyTorch's (LSTM ``i, f, g, o``; GRU ``r, z, n`` with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``);
    ``w_hr`` ``(proj_size, hidden)`` projects LSTM outputs. Returns ``(output (N, H_out), h_n[, c_n])``.
    """
    bs = list(batch_sizes)
    inputs = (input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr)
    record = _grad_enabled() and any(t is not None and t._requires_grad for t in inputs)
    x = np.ascontiguousarray(input._data, like=input._data)
    out, h, c, saved = _layer_forward(mode, x, bs, hx._data, None if cx is None else cx._data, w_ih._data, w_hh._data,
                                      None if b_ih is None else b_ih._data, None if b_hh is None else b_hh._data,
                                      None if w_hr is None else w_hr._data, reverse, record)
    outs = (_wrap(out), _wrap(h)) + ((_wrap(c),) if mode == 'LSTM' else ())
    if record:
        node = RNNLayerBackward0(tuple((None, 0) if t is None else grad_edge(t) for t in inputs))
        node.n_outputs = len(outs)
        node.mode = mode
        node.batch_sizes = bs
        node.reverse = reverse
        node.arrays = saved
        node.bmax = hx._data.shape[0]
        node.needs = tuple(fn is not None for fn, _ in node.next_functions)
        node.save(*inputs)
        for k, o in enumerate(outs):
            o.grad_fn = node
            o._requires_grad = True
            o._output_nr = k
    return outs


# ---- PyTorch's functional entry points -------------------------------------------------------

def _check_cell(input, hx, w_ih, w_hh, b_ih, b_hh, name):
    if input.dim() != 2 or input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f'input has inconsistent input_size: got {input.shape[-1]} expected {w_ih.shape[1]}')
    if input.shape[0] != hx.shape[0]:
        raise RuntimeError(f'Input batch size {input.shape[0]} doesn\'t match hidden{name} batch size '
                           f'{hx.shape[0]}')
    if hx.shape[1] != w_hh.shape[1]:
        raise RuntimeError(f'hidden{name} has inconsistent hidden_size: got {hx.shape[1]}, expected '
                           f'{w_hh.shape[1]}')


def _cell(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    _check_cell(input, hx, w_ih, w_hh, b_ih, b_hh, '0')
    if cx is not None and cx.shape[1] != w_hh.shape[1]:
        raise RuntimeError(f'hidden1 has inconsistent hidden_size: got {cx.shape[1]}, expected {w_hh.shape[1]}')
    return rnn_layer(mode, input, (input.shape[0],), hx, cx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``: input ``(B, I)``, hx ``(B, H)``."""
    return _cell('RNN_TANH', input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``: input ``(B, I)``, hx ``(B, H)``."""
    return _cell('RNN_RELU', input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: input ``(B, I)``, ``hx = (h, c)`` each ``(B, H)``; returns ``(h', c')``."""
    return tuple(_cell('LSTM', input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)[1:])


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: input ``(B, I)``, hx ``(B, H)``; returns ``h'``."""
    return _cell('GRU', input, hx, None, w_ih, w_hh, b_ih, b_hh)[1]


def _stack_rnn(mode, data, batch_sizes, hx, cx, params, has_biases, num_layers, dropout, train, bidirectional):
    """Layers x directions over packed rows; between layers the directions' outputs are concatenated and,
    in training, dropped out with probability ``dropout`` (PyTorch's order of random draws)."""
    from .dropout import dropout as _dropout
    from .join import cat, stack
    dirs = 2 if bidirectional else 1
    per = 2 + (2 if has_biases else 0) + (1 if mode == 'LSTM' and cx is not None and
                                         hx.shape[-1] != cx.shape[-1] else 0)
    if len(params) != per * num_layers * dirs:
        raise RuntimeError(f'expected {per * num_layers * dirs} parameters for {num_layers} layer(s), got '
                           f'{len(params)}')
    x = data
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            p = params[k * per:(k + 1) * per]
            w_ih, w_hh = p[0], p[1]
            b_ih, b_hh = (p[2], p[3]) if has_biases else (None, None)
            w_hr = p[-1] if per in (3, 5) else None
            res = rnn_layer(mode, x, batch_sizes, hx[k], None if cx is None else cx[k], w_ih, w_hh, b_ih, b_hh,
                            w_hr, reverse=d == 1)
            outs.append(res[0])
            hs.append(res[1])
            if cx is not None:
                cs.append(res[2])
        x = outs[0] if dirs == 1 else cat(outs, 1)
        if dropout and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    return x, stack(hs, 0), (stack(cs, 0) if cx is not None else None)


def _run(mode, args):
    """Both of PyTorch's overloads: ``(input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` for padded input, ``(data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional)`` for packed rows."""
    packed = isinstance(args[3], (list, tuple))
    if packed:
        data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional = args
        bs = [int(b) for b in batch_sizes.tolist()]
        hx, cx = (hx[0], hx[1]) if mode == 'LSTM' else (hx, None)
        return _stack_rnn(mode, data, bs, hx, cx, params, has_biases, num_layers, dropout, train, bidirectional)
    input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
    hx, cx = (hx[0], hx[1]) if mode == 'LSTM' else (hx, None)
    x = input.transpose(0, 1) if batch_first else input
    t, b = x.shape[0], x.shape[1]
    out, hn, cn = _stack_rnn(mode, x.reshape(t * b, x.shape[2]), [b] * t, hx, cx, params, has_biases, num_layers,
                             dropout, train, bidirectional)
    out = out.reshape(t, b, out.shape[1])
    if batch_first:
        out = out.transpose(0, 1)
    return out, hn, cn


def lstm(*args):
    """Multi-layer LSTM: ``lstm(input, (h_0, c_0), params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` or the packed form ``lstm(data, batch_sizes, (h_0, c_0), params, ...)``.
    Returns ``(output, h_n, c_n)``."""
    return _run('LSTM', args)


def gru(*args):
    """Multi-layer GRU (same arguments as ``rnn_tanh``); returns ``(output, h_n)``."""
    return _run('GRU', args)[:2]


def rnn_tanh(*args):
    """Multi-layer Elman RNN with tanh: ``rnn_tanh(input, h_0, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` or ``rnn_tanh(data, batch_sizes, h_0, params, ...)``; returns ``(output, h_n)``."""
    return _run('RNN_TANH', args)[:2]


def rnn_relu(*args):
    """Multi-layer Elman RNN with ReLU (arguments as ``rnn_tanh``)."""
    return _run('RNN_RELU', args)[:2]


__all__ = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'lstm_cell', 'gru_cell', 'rnn_tanh_cell', 'rnn_relu_cell']
METHODS = {}
