"""The weights-only unpickler: reads a pickle without running code from it.

A pickle is a small stack-machine program. Most opcodes only build Python values (numbers,
strings, tuples, lists, dicts); the dangerous ones fetch a global by name (``GLOBAL``,
``STACK_GLOBAL``) and call it (``REDUCE``, ``NEWOBJ``) or set attributes (``BUILD``). This
interpreter implements the value opcodes of protocols 0-5 and lets a global through only if
it is on the allow-list: the Ember equivalents of the names PyTorch checkpoints use
(``_rebuild.torch_globals``) plus what the user allowed with ``add_safe_globals``. Calls and
``BUILD`` are accepted only on allowed objects, ``SETITEM``/``APPEND`` only on dicts/lists.

Reads are checked: a length that runs past the data raises "pickle data was truncated"
instead of allocating, and any malformed sequence raises ``pickle.UnpicklingError``.
"""
import _compat_pickle
import codecs
import pickle
import struct
from collections import Counter, OrderedDict
from pickle import UnpicklingError, decode_long

from . import _rebuild

_safe_globals = []
_BLOCKED_MODULES = ('sys', 'os', 'posix', 'nt', 'subprocess', 'builtins.eval', 'builtins.exec')
_DICT_TYPES = (dict, OrderedDict, Counter)


def add_safe_globals(safe_globals):
    """Allow ``weights_only`` loading to use these functions/classes (or ``(obj, 'module.name')`` pairs)."""
    for g in safe_globals:
        if g not in _safe_globals:
            _safe_globals.append(g)


def get_safe_globals():
    """The functions/classes added with ``add_safe_globals``."""
    return list(_safe_globals)


def clear_safe_globals():
    """Forget every global added with ``add_safe_globals``."""
    _safe_globals.clear()


class safe_globals:
    """Context manager allowing ``safe_globals`` for ``weights_only`` loading within its block."""

    def __init__(self, safe_globals):
        self._globals = list(safe_globals)

    def __enter__(self):
        self._saved = list(_safe_globals)
        add_safe_globals(self._globals)

    def __exit__(self, *exc):
        _safe_globals[:] = self._saved


def user_globals():
    out = {}
    for g in _safe_globals:
        if isinstance(g, tuple) and len(g) == 2 and isinstance(g[1], str):
            out[g[1]] = g[0]
        else:
            out[f'{getattr(g, "__module__", "")}.{getattr(g, "__qualname__", getattr(g, "__name__", ""))}'] = g
    return out


def compat_name(module, name):
    """Python 2 names that protocol < 3 pickles use (``__builtin__.set``) -> Python 3 names."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _allow_hint(full):
    return (f'Please use `ember.serialization.add_safe_globals([{full}])` or the '
            f'`ember.serialization.safe_globals([{full}])` context manager to allowlist this global if you trust '
            'this class/function, or load with weights_only=False if you trust the source of the checkpoint '
            '(that can run arbitrary code).')


class _Stop(Exception):
    pass


_OPS = {}
# Opcodes that build objects by other means than the allow-listed globals.
_REFUSED = {pickle.INST: 'INST', pickle.OBJ: 'OBJ', pickle.EXT1: 'EXT1', pickle.EXT2: 'EXT2', pickle.EXT4: 'EXT4',
            pickle.NEXT_BUFFER: 'NEXT_BUFFER', pickle.READONLY_BUFFER: 'READONLY_BUFFER'}


def _op(code):
    def register(f):
        _OPS[code[0]] = f
        return f
    return register


class WeightsUnpickler:
    """Unpickle ``file`` (an object with ``read`` and ``readline``) allowing only safe globals.

    ``persistent_load(pid)`` resolves persistent ids (checkpoints use them for storages).
    ``encoding`` decodes Python 2 ``str`` objects (``'bytes'`` keeps them as bytes).
    """

    def __init__(self, file, persistent_load, *, encoding='utf-8', errors='strict'):
        self._file_read = file.read
        self._file_readline = file.readline
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.errors = errors
        self.allowed = _rebuild.torch_globals()
        self.user = user_globals()
        self._callables = {id(v) for v in self.allowed.values()} | {id(v) for v in self.user.values()}
        self._user_types = tuple(v for v in self.user.values() if isinstance(v, type))

    def read(self, n):
        data = self._file_read(n)
        if len(data) != n:
            raise UnpicklingError('pickle data was truncated')
        return data

    def readline(self):
        line = self._file_readline()
        if not line.endswith(b'\n'):
            raise UnpicklingError('pickle data was truncated')
        return line

    def load(self):
        self.stack = []
        self.metastack = []
        self.memo = {}
        self.proto = 0
        try:
            read = self._file_read
            while True:
                key = read(1)
                if not key:
                    raise UnpicklingError('pickle data was truncated')
                op = _OPS.get(key[0])
                if op is None:
                    if key in _REFUSED:
                        raise UnpicklingError(f'Weights only load failed: the pickle uses opcode {key!r} '
                                              f'({_REFUSED[key]}), which the weights-only unpickler refuses')
                    raise UnpicklingError(f'invalid pickle opcode {key!r} (the data is corrupted)')
                op(self)
        except _Stop:
            if not self.stack:
                raise UnpicklingError('pickle data ends with an empty stack') from None
            return self.stack.pop()
        except UnicodeDecodeError as e:
            raise UnpicklingError(f'invalid pickle data ({e})') from e
        except (UnpicklingError, RuntimeError, ValueError):
            raise
        except (IndexError, KeyError, TypeError, AttributeError, struct.error, OverflowError, EOFError,
                RecursionError, MemoryError, LookupError) as e:
            raise UnpicklingError(f'invalid pickle data ({type(e).__name__}: {e})') from e

    # ---- helpers --------------------------------------------------------------------------------
    def pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def find_class(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise UnpicklingError('STACK_GLOBAL requires str module and name')
        if self.proto < 3:
            module, name = compat_name(module, name)
        full = f'{module}.{name}'
        if module.split('.')[0] in _BLOCKED_MODULES or full in _BLOCKED_MODULES:
            raise UnpicklingError(f'Weights only load failed: trying to load unsupported GLOBAL {full} whose module '
                                  f'{module} is blocked.')
        if full in self.allowed:
            return self.allowed[full]
        if full in self.user:
            return self.user[full]
        if full in _rebuild.UNSUPPORTED:
            raise UnpicklingError(f'the checkpoint uses {full}: Ember does not support {_rebuild.UNSUPPORTED[full]}')
        shown = name if module == 'builtins' else full
        raise UnpicklingError(f'Weights only load failed: unsupported global: GLOBAL {shown} was not an allowed global '
                              f'by default. {_allow_hint(shown)}')

    def _check_callable(self, func, what):
        if id(func) not in self._callables:
            raise UnpicklingError(f'Weights only load failed: trying to {what} {func!r}, which is not an allowed '
                                  'global')

    def decode_string(self, data):
        if self.encoding == 'bytes':
            return data
        return data.decode(self.encoding, self.errors)


def _push(value):
    return lambda self: self.stack.append(value)


for _code, _value in ((pickle.NONE, None), (pickle.NEWTRUE, True), (pickle.NEWFALSE, False),
                      (pickle.EMPTY_TUPLE, ())):
    _OPS[_code[0]] = _push(_value)


@_op(pickle.EMPTY_LIST)
def _empty_list(self):
    self.stack.append([])


@_op(pickle.EMPTY_DICT)
def _empty_dict(self):
    self.stack.append({})


@_op(pickle.EMPTY_SET)
def _empty_set(self):
    self.stack.append(set())


@_op(pickle.PROTO)
def _proto(self):
    self.proto = self.read(1)[0]
    if self.proto > pickle.HIGHEST_PROTOCOL:
        raise UnpicklingError(f'unsupported pickle protocol: {self.proto}')


@_op(pickle.FRAME)
def _frame(self):
    self.read(8)


@_op(pickle.STOP)
def _stop(self):
    raise _Stop


@_op(pickle.MARK)
def _mark(self):
    self.metastack.append(self.stack)
    self.stack = []


@_op(pickle.POP)
def _pop(self):
    if self.stack:
        self.stack.pop()
    else:
        self.pop_mark()


@_op(pickle.POP_MARK)
def _pop_mark(self):
    self.pop_mark()


@_op(pickle.DUP)
def _dup(self):
    self.stack.append(self.stack[-1])


# ---- numbers ----------------------------------------------------------------------------------------
@_op(pickle.BININT)
def _binint(self):
    self.stack.append(struct.unpack('<i', self.read(4))[0])


@_op(pickle.BININT1)
def _binint1(self):
    self.stack.append(self.read(1)[0])


@_op(pickle.BININT2)
def _binint2(self):
    self.stack.append(struct.unpack('<H', self.read(2))[0])


@_op(pickle.LONG1)
def _long1(self):
    self.stack.append(decode_long(self.read(self.read(1)[0])))


@_op(pickle.LONG4)
def _long4(self):
    n = struct.unpack('<i', self.read(4))[0]
    if n < 0:
        raise UnpicklingError('LONG pickle has negative byte count')
    self.stack.append(decode_long(self.read(n)))


@_op(pickle.BINFLOAT)
def _binfloat(self):
    self.stack.append(struct.unpack('>d', self.read(8))[0])


@_op(pickle.INT)
def _int(self):
    line = self.readline()[:-1]
    self.stack.append({b'00': False, b'01': True}.get(line) if line in (b'00', b'01') else int(line))


@_op(pickle.LONG)
def _long(self):
    self.stack.append(int(self.readline()[:-1].rstrip(b'L')))


@_op(pickle.FLOAT)
def _float(self):
    self.stack.append(float(self.readline()[:-1]))


# ---- strings and bytes --------------------------------------------------------------------------------
def _unicode_op(fmt):
    size = struct.calcsize(fmt)

    def load(self):
        n = struct.unpack(fmt, self.read(size))[0]
        self.stack.append(str(self.read(n), 'utf-8', 'surrogatepass'))
    return load


def _bytes_op(fmt, kind=bytes):
    size = struct.calcsize(fmt)

    def load(self):
        n = struct.unpack(fmt, self.read(size))[0]
        self.stack.append(kind(self.read(n)))
    return load


def _string_op(fmt):
    size = struct.calcsize(fmt)

    def load(self):
        n = struct.unpack(fmt, self.read(size))[0]
        if n < 0:
            raise UnpicklingError('BINSTRING pickle has negative byte count')
        self.stack.append(self.decode_string(self.read(n)))
    return load


_OPS[pickle.BINUNICODE[0]] = _unicode_op('<I')
_OPS[pickle.SHORT_BINUNICODE[0]] = _unicode_op('<B')
_OPS[pickle.BINUNICODE8[0]] = _unicode_op('<Q')
_OPS[pickle.BINBYTES[0]] = _bytes_op('<I')
_OPS[pickle.SHORT_BINBYTES[0]] = _bytes_op('<B')
_OPS[pickle.BINBYTES8[0]] = _bytes_op('<Q')
_OPS[pickle.BYTEARRAY8[0]] = _bytes_op('<Q', bytearray)
_OPS[pickle.BINSTRING[0]] = _string_op('<i')
_OPS[pickle.SHORT_BINSTRING[0]] = _string_op('<B')


@_op(pickle.STRING)
def _string(self):
    data = self.readline()[:-1]
    if len(data) < 2 or data[0] != data[-1] or data[0] not in b'"\'':
        raise UnpicklingError('the STRING opcode argument must be quoted')
    self.stack.append(self.decode_string(codecs.escape_decode(data[1:-1])[0]))


@_op(pickle.UNICODE)
def _unicode(self):
    self.stack.append(str(self.readline()[:-1], 'raw-unicode-escape'))


# ---- containers ---------------------------------------------------------------------------------------
@_op(pickle.TUPLE)
def _tuple(self):
    items = tuple(self.pop_mark())  # before touching self.stack: pop_mark replaces it
    self.stack.append(items)


@_op(pickle.TUPLE1)
def _tuple1(self):
    self.stack[-1] = (self.stack[-1],)


@_op(pickle.TUPLE2)
def _tuple2(self):
    self.stack[-2:] = [(self.stack[-2], self.stack[-1])]


@_op(pickle.TUPLE3)
def _tuple3(self):
    self.stack[-3:] = [(self.stack[-3], self.stack[-2], self.stack[-1])]


@_op(pickle.LIST)
def _list(self):
    items = self.pop_mark()
    self.stack.append(items)


@_op(pickle.DICT)
def _dict(self):
    items = self.pop_mark()
    if len(items) % 2:
        raise UnpicklingError('DICT needs key/value pairs')
    d = {items[i]: items[i + 1] for i in range(0, len(items), 2)}
    self.stack.append(d)


@_op(pickle.FROZENSET)
def _frozenset(self):
    items = frozenset(self.pop_mark())
    self.stack.append(items)


def _target(self, types, opname):
    obj = self.stack[-1]
    if type(obj) not in types:
        raise UnpicklingError(f'{opname} on a {type(obj).__name__} is not allowed')
    return obj


@_op(pickle.APPEND)
def _append(self):
    value = self.stack.pop()
    _target(self, (list,), 'APPEND').append(value)


@_op(pickle.APPENDS)
def _appends(self):
    items = self.pop_mark()
    _target(self, (list,), 'APPENDS').extend(items)


@_op(pickle.SETITEM)
def _setitem(self):
    value = self.stack.pop()
    key = self.stack.pop()
    _target(self, _DICT_TYPES, 'SETITEM')[key] = value


@_op(pickle.SETITEMS)
def _setitems(self):
    items = self.pop_mark()
    d = _target(self, _DICT_TYPES, 'SETITEMS')
    if len(items) % 2:
        raise UnpicklingError('SETITEMS needs key/value pairs')
    for i in range(0, len(items), 2):
        d[items[i]] = items[i + 1]


@_op(pickle.ADDITEMS)
def _additems(self):
    items = self.pop_mark()
    _target(self, (set,), 'ADDITEMS').update(items)


# ---- memo -----------------------------------------------------------------------------------------------
def _get(self, i):
    if i not in self.memo:
        raise UnpicklingError(f'Memo value not found at index {i}')
    self.stack.append(self.memo[i])


def _put(self, i):
    if i < 0:
        raise UnpicklingError('negative PUT argument')
    self.memo[i] = self.stack[-1]


_OPS[pickle.BINGET[0]] = lambda self: _get(self, self.read(1)[0])
_OPS[pickle.LONG_BINGET[0]] = lambda self: _get(self, struct.unpack('<I', self.read(4))[0])
_OPS[pickle.GET[0]] = lambda self: _get(self, int(self.readline()[:-1]))
_OPS[pickle.BINPUT[0]] = lambda self: _put(self, self.read(1)[0])
_OPS[pickle.LONG_BINPUT[0]] = lambda self: _put(self, struct.unpack('<I', self.read(4))[0])
_OPS[pickle.PUT[0]] = lambda self: _put(self, int(self.readline()[:-1]))
_OPS[pickle.MEMOIZE[0]] = lambda self: _put(self, len(self.memo))


# ---- persistent ids, globals, calls -----------------------------------------------------------------------
@_op(pickle.BINPERSID)
def _binpersid(self):
    pid = self.stack.pop()
    if type(pid) is not tuple:
        raise UnpicklingError(f'persistent id must be a tuple, got {type(pid).__name__}')
    self.stack.append(self.persistent_load(pid))


@_op(pickle.PERSID)
def _persid(self):
    self.stack.append(self.persistent_load(self.readline()[:-1].decode('ascii')))


@_op(pickle.GLOBAL)
def _global(self):
    module = self.readline()[:-1].decode('utf-8')
    name = self.readline()[:-1].decode('utf-8')
    self.stack.append(self.find_class(module, name))


@_op(pickle.STACK_GLOBAL)
def _stack_global(self):
    name = self.stack.pop()
    module = self.stack.pop()
    self.stack.append(self.find_class(module, name))


@_op(pickle.REDUCE)
def _reduce(self):
    args = self.stack.pop()
    func = self.stack[-1]
    self._check_callable(func, 'call')
    if type(args) is not tuple:
        raise UnpicklingError('REDUCE arguments must be a tuple')
    self.stack[-1] = func(*args)


def _new_object(self, cls, args, kwargs):
    self._check_callable(cls, 'create an instance of')
    if type(args) is not tuple or type(kwargs) is not dict:
        raise UnpicklingError('NEWOBJ arguments must be a tuple and a dict')
    if not isinstance(cls, type):
        raise UnpicklingError(f'NEWOBJ needs a class, got {cls!r}')
    param = _rebuild.parameter_class()
    if param is not None and cls is param:
        return cls(*args, **kwargs)
    return cls.__new__(cls, *args, **kwargs)


@_op(pickle.NEWOBJ)
def _newobj(self):
    args = self.stack.pop()
    cls = self.stack.pop()
    self.stack.append(_new_object(self, cls, args, {}))


@_op(pickle.NEWOBJ_EX)
def _newobj_ex(self):
    kwargs = self.stack.pop()
    args = self.stack.pop()
    cls = self.stack.pop()
    self.stack.append(_new_object(self, cls, args, kwargs))


@_op(pickle.BUILD)
def _build(self):
    state = self.stack.pop()
    inst = self.stack[-1]
    if type(inst) in (OrderedDict, Counter):
        if not isinstance(state, dict):
            raise UnpicklingError(f'BUILD state of an OrderedDict must be a dict, got {type(state).__name__}')
        inst.__dict__.update(state)
    elif self._user_types and type(inst) in self._user_types:
        setstate = getattr(inst, '__setstate__', None)
        if setstate is not None:
            setstate(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        if state:
            inst.__dict__.update(state)
        if slotstate:
            for k, v in slotstate.items():
                setattr(inst, k, v)
    else:
        raise UnpicklingError(f'Weights only load failed: can only BUILD OrderedDict or types allowlisted via '
                              f'`ember.serialization.add_safe_globals`, but got {type(inst).__name__}')
