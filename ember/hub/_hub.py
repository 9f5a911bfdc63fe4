"""torch.hub's API: cached checkpoint downloads and ``hubconf.py`` entry points.

Files live under ``get_dir()`` (``$EMBER_HOME/hub``, ``EMBER_HOME`` defaulting to
``$XDG_CACHE_HOME/ember`` i.e. ``~/.cache/ember``): checkpoints in ``checkpoints/``, GitHub repos
unpacked as ``owner_name_ref/``. A file or repo already in the cache is used without touching the
network, so a machine without network access works once the files are put there by hand; every
download failure says which URL failed and which path to fill.
"""
import contextlib
import errno
import hashlib
import importlib.util
import os
import re
import shutil
import sys
import uuid
import warnings
import zipfile
from pathlib import Path

__all__ = ['download_url_to_file', 'get_dir', 'help', 'list', 'load', 'load_state_dict_from_url', 'set_dir']

# the hash prefix of ``resnet18-5c106cde.pth`` is ``5c106cde``
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
ENV_EMBER_HOME = 'EMBER_HOME'
ENV_XDG_CACHE_HOME = 'XDG_CACHE_HOME'
ENV_GITHUB_TOKEN = 'GITHUB_TOKEN'
DEFAULT_CACHE_DIR = '~/.cache'
VAR_DEPENDENCY = 'dependencies'
MODULE_HUBCONF = 'hubconf.py'
READ_DATA_CHUNK = 128 * 1024
_TRUSTED_REPO_OWNERS = ('facebookresearch', 'facebookincubator', 'pytorch', 'fairinternal')
_hub_dir = None


class _Faketqdm:
    """Progress on stderr (percent, or bytes when the size is unknown) when tqdm is not installed."""

    def __init__(self, total=None, disable=False, **kwargs):
        self.total = total
        self.disable = disable
        self.n = 0

    def update(self, n):
        if self.disable:
            return
        self.n += n
        if self.total is None:
            sys.stderr.write(f'\r{self.n:.1f} bytes')
        else:
            sys.stderr.write(f'\r{100 * self.n / float(self.total):.1f}%')
        sys.stderr.flush()

    def close(self):
        self.disable = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.disable:
            sys.stderr.write('\n')


def _progress_bar(**kwargs):
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = _Faketqdm
    return tqdm(**kwargs)


def _get_ember_home():
    default = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), 'ember')
    return os.path.expanduser(os.getenv(ENV_EMBER_HOME, default))


def get_dir():
    """The hub cache directory: the one given to ``set_dir``, else ``$EMBER_HOME/hub``.

    ``EMBER_HOME`` defaults to ``$XDG_CACHE_HOME/ember`` (``~/.cache/ember``).
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_ember_home(), 'hub')


def set_dir(d):
    """Use directory ``d`` (a str or path, ``~`` expanded) as the hub cache from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _offline_error(url, dst, err):
    return RuntimeError(
        f'Could not download {url!r}: {getattr(err, "reason", err)}. Without network access, fetch the file '
        f'on another machine and put it at {dst!r}; it is then used from there without downloading.')


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to the path ``dst``.

    The bytes go to ``dst + '.<uuid>.partial'`` first and are renamed to ``dst`` only when complete
    (and, with ``hash_prefix``, only when the SHA256 of the file starts with it), so an interrupted
    or corrupt download never replaces a good file. ``progress`` shows a bar on stderr (tqdm when
    installed). A network failure raises ``RuntimeError`` naming the URL and ``dst``.
    """
    from urllib.error import URLError
    from urllib.request import Request, urlopen

    dst = os.path.expanduser(os.fspath(dst))
    for _ in range(100):
        tmp_dst = f'{dst}.{uuid.uuid4().hex}.partial'
        try:
            f = open(tmp_dst, 'xb')  # closed in the finally below
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(errno.EEXIST, 'No usable temporary file name found')
    try:
        req = Request(url, headers={'User-Agent': 'ember.hub'})
        try:
            u = urlopen(req)
        except (URLError, OSError, ValueError) as err:
            raise _offline_error(url, dst, err) from err
        with u:
            length = u.info().get_all('Content-Length')
            file_size = int(length[0]) if length else None
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            with _progress_bar(total=file_size, disable=not progress, unit='B', unit_scale=True,
                               unit_divisor=1024) as pbar:
                while True:
                    try:
                        buffer = u.read(READ_DATA_CHUNK)
                    except (URLError, OSError) as err:
                        raise _offline_error(url, dst, err) from err
                    if not buffer:
                        break
                    f.write(buffer)
                    if sha256 is not None:
                        sha256.update(buffer)
                    pbar.update(len(buffer))
        f.close()
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        shutil.move(f.name, dst)
    finally:
        f.close()
        if os.path.exists(f.name):
            os.remove(f.name)


def _is_legacy_zip_format(filename):
    # checkpoints older than the zip format were sometimes zipped by hand: one file inside
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as zf:
            infolist = zf.infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _safe_extract_zip(zip_file, extract_to):
    """Extract every member of ``zip_file`` under ``extract_to``, refusing paths that escape it."""
    root = Path(extract_to).resolve(strict=False)
    for member in zip_file.infolist():
        name = os.path.normpath(member.filename)
        if name.startswith(('/', '\\')) or (len(name) >= 2 and name[1] == ':' and name[0].isalpha()):
            raise ValueError(f'Archive entry has absolute path: {member.filename}')
        if '..' in re.split(r'[/\\]', name):
            raise ValueError(f'Archive entry contains directory traversal: {member.filename}')
        if not (root / name).resolve(strict=False).is_relative_to(root):
            raise ValueError(f'Archive entry escapes target directory: {member.filename}')
        zip_file.extract(member, root)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True):
    """Load the checkpoint at ``url``, downloading it into the cache the first time.

    The file is ``model_dir/<file_name or the URL's last path part>``; ``model_dir`` defaults to
    ``get_dir()/checkpoints``. A file already there is loaded with no network access. With
    ``check_hash`` the name must read ``name-<sha256 prefix>.ext`` (8 or more hex digits) and the
    download is checked against that prefix. A zip holding a single legacy checkpoint is unpacked
    into ``model_dir`` first. ``map_location`` and ``weights_only`` are passed to ``ember.load``
    (``weights_only=True`` by default: no code from the file runs).
    """
    from urllib.parse import urlparse

    from ..serialization import load as _load

    if model_dir is None:
        model_dir = os.path.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            r = HASH_REGEX.search(filename)
            hash_prefix = r.group(1) if r else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        with zipfile.ZipFile(cached_file) as zf:
            _safe_extract_zip(zf, model_dir)
            cached_file = os.path.join(model_dir, zf.infolist()[0].filename)
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


# ---- hubconf.py repositories ----

@contextlib.contextmanager
def _add_to_sys_path(path):
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _import_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise RuntimeError(f'Cannot load {path}: no {MODULE_HUBCONF} there')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_hubconf(repo_dir):
    path = os.path.join(repo_dir, MODULE_HUBCONF)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'No {MODULE_HUBCONF} in {repo_dir!r}')
    with _add_to_sys_path(repo_dir):
        return _import_module(MODULE_HUBCONF, path)


def _git_archive_link(repo_owner, repo_name, ref):
    return f'https://github.com/{repo_owner}/{repo_name}/zipball/{ref}'


def _read_url(url):
    from urllib.request import urlopen

    with urlopen(url) as r:
        return r.read().decode(r.headers.get_content_charset('utf-8'))


def _parse_repo_info(github):
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    repo_info, _, ref = github.partition(':')
    try:
        repo_owner, repo_name = repo_info.split('/')
    except ValueError:
        raise ValueError(f'Invalid repo {github!r}: expected "repo_owner/repo_name[:ref]"') from None
    if ref:
        return repo_owner, repo_name, ref
    # no ref given: the default branch is main if it exists, else master
    try:
        with urlopen(f'https://github.com/{repo_owner}/{repo_name}/tree/main/'):
            return repo_owner, repo_name, 'main'
    except HTTPError as e:
        if e.code == 404:
            return repo_owner, repo_name, 'master'
        raise
    except (URLError, OSError) as e:
        for possible in ('main', 'master'):
            if os.path.exists(os.path.join(get_dir(), f'{repo_owner}_{repo_name}_{possible}')):
                return repo_owner, repo_name, possible
        raise RuntimeError(
            f'It looks like there is no internet connection and the repo could not be found in the cache '
            f'({get_dir()}); unpack the repo into {os.path.join(get_dir(), f"{repo_owner}_{repo_name}_main")!r} '
            f"or load it with source='local'") from e


def _validate_not_a_forked_repo(repo_owner, repo_name, ref):
    import json
    from urllib.error import HTTPError, URLError
    from urllib.request import Request

    headers = {'Accept': 'application/vnd.github.v3+json'}
    token = os.environ.get(ENV_GITHUB_TOKEN)
    if token is not None:
        headers['Authorization'] = f'token {token}'
    for url_prefix in (f'https://api.github.com/repos/{repo_owner}/{repo_name}/branches',
                       f'https://api.github.com/repos/{repo_owner}/{repo_name}/tags'):
        page = 0
        while True:
            page += 1
            url = f'{url_prefix}?per_page=100&page={page}'
            try:
                try:
                    response = json.loads(_read_url(Request(url, headers=headers)))
                except HTTPError:
                    # retry without a token, in case it lacked the permission
                    headers.pop('Authorization', None)
                    response = json.loads(_read_url(Request(url, headers=headers)))
            except (URLError, OSError) as e:
                raise RuntimeError(
                    f'Could not reach {url!r} to check that {ref!r} belongs to {repo_owner}/{repo_name}: '
                    f'{getattr(e, "reason", e)}. Pass skip_validation=True to skip this check.') from e
            if not response:
                break
            for br in response:
                if br['name'] == ref or br['commit']['sha'].startswith(ref):
                    return
    raise ValueError(f"Cannot find {ref} in https://github.com/{repo_owner}/{repo_name}. If it's a commit from "
                     'a forked repo, please call hub.load() with forked repo directly.')


def _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo):
    hub_dir = get_dir()
    filepath = os.path.join(hub_dir, 'trusted_list')
    if not os.path.exists(filepath):
        Path(filepath).touch()
    with open(filepath) as file:
        trusted_repos = tuple(line.strip() for line in file)
    # a repo already downloaded into the cache counts as trusted
    trusted_legacy = next(os.walk(hub_dir))[1]
    owner_name = f'{repo_owner}_{repo_name}'
    is_trusted = (owner_name in trusted_repos or owner_name_branch in trusted_legacy
                  or repo_owner in _TRUSTED_REPO_OWNERS)
    if trust_repo is None:
        trust_repo = 'check'
    if trust_repo is False or (trust_repo == 'check' and not is_trusted):
        response = input(f'The repository {owner_name} does not belong to the list of trusted repositories and as '
                         'such cannot be downloaded. Do you trust this repository and wish to add it to the trusted '
                         'list of repositories (y/N)?')
        if response.lower() in ('y', 'yes'):
            if is_trusted:
                print('The repository is already trusted.')
        elif response.lower() in ('n', 'no', ''):
            raise Exception('Untrusted repository.')  # the type torch.hub raises
        else:
            raise ValueError(f'Unrecognized response {response}.')
    if not is_trusted:
        with open(filepath, 'a') as file:
            file.write(owner_name + '\n')


def _remove_if_exists(path):
    if os.path.isfile(path):
        os.remove(path)
    elif os.path.exists(path):
        shutil.rmtree(path)


def _get_cache_or_reload(github, force_reload, trust_repo, verbose=True, skip_validation=False):
    """The local directory of GitHub repo ``owner/name[:ref]``, downloading its zip when not cached."""
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    repo_owner, repo_name, ref = _parse_repo_info(github)
    # branch names may hold '/', which would read as a path
    normalized_br = ref.replace('/', '_')
    owner_name_branch = '_'.join([repo_owner, repo_name, normalized_br])
    repo_dir = os.path.join(hub_dir, owner_name_branch)
    _check_repo_is_trusted(repo_owner, repo_name, owner_name_branch, trust_repo)
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f'Using cache found in {repo_dir}\n')
        return repo_dir
    if not skip_validation:
        _validate_not_a_forked_repo(repo_owner, repo_name, ref)
    cached_file = os.path.join(hub_dir, normalized_br + '.zip')
    _remove_if_exists(cached_file)
    url = _git_archive_link(repo_owner, repo_name, ref)
    sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
    try:
        download_url_to_file(url, cached_file, progress=False)
    except RuntimeError as err:
        cause = err.__cause__
        if getattr(cause, 'code', None) != 300:
            raise RuntimeError(f'{err} Alternatively unpack the repository into {repo_dir!r}, or load a local '
                               f"copy with source='local'.") from cause
        # 300 Multiple Choices: the ref is both a tag and a branch; take the branch as git does
        warnings.warn(f'The ref {ref} is ambiguous. Perhaps it is both a tag and a branch in the repo? Ember hub '
                      'will now assume that it is a branch. You can disambiguate tags and branches by explicitly '
                      'passing refs/heads/branch_name or refs/tags/tag_name as the ref. That might require using '
                      'skip_validation=True.', stacklevel=3)
        download_url_to_file(_git_archive_link(repo_owner, repo_name, f'refs/heads/{ref}'), cached_file,
                             progress=False)
    with zipfile.ZipFile(cached_file) as zf:
        extracted_repo = os.path.join(hub_dir, zf.infolist()[0].filename)
        _remove_if_exists(extracted_repo)
        _safe_extract_zip(zf, hub_dir)
    _remove_if_exists(cached_file)
    _remove_if_exists(repo_dir)
    shutil.move(extracted_repo, repo_dir)
    return repo_dir


def _check_dependencies(m):
    dependencies = getattr(m, VAR_DEPENDENCY, None)
    if dependencies is not None:
        missing = [pkg for pkg in dependencies if importlib.util.find_spec(pkg) is None]
        if missing:
            raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")


def _load_entry_from_hubconf(m, model):
    if not isinstance(model, str):
        raise ValueError('Invalid input: model should be a string of function name')
    _check_dependencies(m)
    func = getattr(m, model, None) if model in dir(m) else None
    if func is None or not callable(func):
        raise RuntimeError(f'Cannot find callable {model} in hubconf')
    return func


def list(github, force_reload=False, skip_validation=False, trust_repo=None, verbose=True):
    """Names of the callable entry points (not starting with ``_``) in the ``hubconf.py`` of GitHub
    repo ``github`` (``'owner/name[:ref]'``; the ref defaults to ``main``, else ``master``).

    ``force_reload`` downloads the repo again; ``skip_validation`` skips the GitHub API check that the
    ref belongs to the repo; ``trust_repo``: ``True``, ``False`` (ask), ``'check'`` (ask unless the
    repo is in the trusted list) or ``None`` (the same as ``'check'``); ``verbose=False`` mutes the
    cache message.
    """
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=verbose,
                                    skip_validation=skip_validation)
    hub_module = _import_hubconf(repo_dir)
    return [f for f in dir(hub_module) if callable(getattr(hub_module, f)) and not f.startswith('_')]


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):
    """The docstring of entry point ``model`` in GitHub repo ``github`` (arguments as in ``list``)."""
    repo_dir = _get_cache_or_reload(github, force_reload, trust_repo, verbose=True, skip_validation=skip_validation)
    return _load_entry_from_hubconf(_import_hubconf(repo_dir), model).__doc__


def load(repo_or_dir, model, *args, source='github', trust_repo=None, force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    """Call entry point ``model`` of a ``hubconf.py`` with ``*args, **kwargs`` and return its result.

    ``source='github'``: ``repo_or_dir`` is ``'owner/name[:ref]'``, downloaded as a zip into
    ``get_dir()`` the first time (offline, unpack it there by hand: the error names the directory).
    ``source='local'``: ``repo_or_dir`` is a directory holding ``hubconf.py``; nothing is downloaded.
    The module's ``dependencies`` list is checked first (``RuntimeError`` naming the missing ones).
    ``trust_repo``, ``force_reload``, ``verbose`` and ``skip_validation`` apply to GitHub repos (see
    ``list``). Importing ``hubconf.py`` runs its code: load only repos you trust.
    """
    source = source.lower()
    if source not in ('github', 'local'):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == 'github':
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, trust_repo, verbose=verbose,
                                           skip_validation=skip_validation)
    return _load_local(repo_or_dir, model, *args, **kwargs)


def _load_local(hubconf_dir, model, *args, **kwargs):
    hubconf_dir = os.fspath(hubconf_dir)
    path = os.path.join(hubconf_dir, MODULE_HUBCONF)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'No {MODULE_HUBCONF} in {hubconf_dir!r}')
    with _add_to_sys_path(hubconf_dir):
        hub_module = _import_module(MODULE_HUBCONF, path)
        entry = _load_entry_from_hubconf(hub_module, model)
        return entry(*args, **kwargs)
