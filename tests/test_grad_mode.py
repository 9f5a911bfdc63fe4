"""Grad-mode switches against PyTorch, and their thread-locality."""
import threading

import numpy as np
import pytest
import torch

import ember
from ember.autograd import grad_mode

LIBS = (ember, torch)


def both(fn):
    e, t = fn(ember), fn(torch)
    assert e == t, f'ember {e} != torch {t}'
    return e


def req(lib, x):
    return (x * 2).requires_grad


def test_no_grad_and_enable_grad_contexts():
    def f(lib):
        x = lib.ones(2, requires_grad=True)
        out = [req(lib, x), lib.is_grad_enabled()]
        with lib.no_grad():
            out += [req(lib, x), lib.is_grad_enabled(), lib.ones(2, requires_grad=True).requires_grad]
            with lib.enable_grad():
                out += [req(lib, x), lib.is_grad_enabled()]
            out.append(req(lib, x))
        out.append(req(lib, x))
        return out
    both(f)


def test_results_made_under_no_grad_are_leaves():
    def f(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = x * 2
        return y.requires_grad, y.is_leaf, y.grad_fn is None
    both(f)


def test_decorators_with_and_without_parentheses():
    def f(lib):
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        def a():
            return req(lib, x)

        @lib.no_grad
        def b():
            return req(lib, x)

        @lib.enable_grad
        def c():
            return req(lib, x)

        @lib.set_grad_enabled(False)
        def d():
            return req(lib, x)

        @lib.inference_mode
        def e():
            return req(lib, x), lib.is_inference_mode_enabled()

        @lib.inference_mode(False)
        def g():
            return req(lib, x), lib.is_inference_mode_enabled()

        with lib.no_grad():
            inner = (c(), g())
        return a(), b(), d(), e(), inner, lib.is_grad_enabled(), a.__name__
    both(f)


def test_decorated_generator_switches_on_every_resumption():
    def f(lib):
        @lib.no_grad()
        def gen():
            for _ in range(2):
                yield lib.is_grad_enabled()

        it = gen()
        out = [next(it), lib.is_grad_enabled(), next(it), lib.is_grad_enabled()]
        return out
    assert both(f) == [False, True, False, True]


def test_set_grad_enabled_as_function_and_context():
    def f(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        lib.set_grad_enabled(False)
        out.append(req(lib, x))
        lib.set_grad_enabled(True)
        out.append(req(lib, x))
        with lib.set_grad_enabled(False):
            out.append(req(lib, x))
            with lib.set_grad_enabled(True):
                out.append(req(lib, x))
            out.append(req(lib, x))
        out.append(req(lib, x))
        out.append(lib.set_grad_enabled(True).mode)
        return out
    both(f)


def test_inference_mode():
    def f(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        with lib.inference_mode():
            out += [req(lib, x), lib.is_grad_enabled(), lib.is_inference_mode_enabled()]
            with lib.inference_mode(False):
                out += [req(lib, x), lib.is_inference_mode_enabled()]
        with lib.no_grad():
            with lib.inference_mode(False):
                out += [req(lib, x)]
        out += [lib.is_inference_mode_enabled(), lib.is_grad_enabled()]
        return out
    both(f)


def test_mode_is_restored_after_an_exception():
    def f(lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError
        return lib.is_grad_enabled()
    assert both(f) is True


def test_backward_under_no_grad_still_computes_gradients():
    def f(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad.tolist(), x.grad.requires_grad
    both(f)


def test_in_place_update_under_no_grad_keeps_leaf():
    def f(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            w -= 0.5
        return w.tolist(), w.is_leaf, w.requires_grad
    both(f)


def _in_thread(fn):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    return result[0]


def test_grad_mode_is_thread_local():
    def f(lib):
        with lib.no_grad():
            in_thread = _in_thread(lib.is_grad_enabled)
            x = lib.ones(2, requires_grad=True)
            thread_req = _in_thread(lambda: req(lib, x))
        def switch_off():
            lib.set_grad_enabled(False)
            return lib.is_grad_enabled()
        off = _in_thread(switch_off)
        return in_thread, thread_req, off, lib.is_grad_enabled()
    assert both(f) == (True, True, False, True)


def test_threads_toggling_concurrently_do_not_interfere():
    barrier = threading.Barrier(2)
    errors = []

    def worker(mode):
        try:
            x = ember.ones(3, requires_grad=True)
            with ember.set_grad_enabled(mode):
                for _ in range(200):
                    barrier.wait()
                    assert ember.is_grad_enabled() is mode
                    assert (x * 2).requires_grad is mode
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(m,)) for m in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert ember.is_grad_enabled()


def test_list_cell_form_reads_and_writes_the_thread_flag():
    assert grad_mode._enabled[0] is True
    with ember.no_grad():
        assert grad_mode._enabled[0] is False
        assert _in_thread(lambda: grad_mode._enabled[0]) is True
    grad_mode._enabled[0] = False
    try:
        assert not ember.is_grad_enabled()
    finally:
        grad_mode._enabled[0] = True
    assert grad_mode._grad_enabled() is True


def test_decorating_a_class_is_rejected():
    with pytest.raises(RuntimeError, match='Cannot decorate classes'):
        ember.no_grad()(type('C', (), {}))


def test_grad_mode_does_not_change_values():
    x = ember.tensor(np.arange(4.0), requires_grad=True)
    with ember.no_grad():
        y = x.exp()
    np.testing.assert_allclose(y.numpy(), np.exp(np.arange(4.0)))
