"""Translate strings from Python with a seq2seq model folder, through the C API (libseq2seq-c.so).

    import seq2seq
    translator = seq2seq.Translator("models/de-en", beam=5)
    print(translator.translate(["Ein Hund läuft."]))       # best translations
    translator.translate(["…"], n_best=True)               # [[(text, score, log_prob), …], …]

The shared library is found at `library=` (a path), else $SEQ2SEQ_LIBRARY, else beside this
package, else by the dynamic loader (LD_LIBRARY_PATH). Errors raise Seq2SeqError with the
library's one-line message.
"""
import ctypes
import os
import threading

__all__ = ["Translator", "Seq2SeqError"]


class Seq2SeqError(RuntimeError):
    """An error of the seq2seq library (the message names the option or file)."""


class _Options(ctypes.Structure):
    _fields_ = [("beam", ctypes.c_int), ("n_best", ctypes.c_int), ("length_penalty", ctypes.c_double),
                ("int8", ctypes.c_int), ("threads", ctypes.c_int), ("shortlist", ctypes.c_int),
                ("last_checkpoint", ctypes.c_int)]


def _load(path=None):
    candidates = [path, os.environ.get("SEQ2SEQ_LIBRARY"),
                  os.path.join(os.path.dirname(__file__), "libseq2seq-c.so"), "libseq2seq-c.so"]
    errors = []
    for candidate in candidates:
        if not candidate:
            continue
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError as error:
            errors.append(str(error))
    else:
        raise Seq2SeqError("cannot load libseq2seq-c.so: " + "; ".join(errors))
    handle, text = ctypes.c_void_p, ctypes.c_char_p
    strings = ctypes.POINTER(ctypes.c_char_p)
    lib.s2s_options_init.argtypes = [ctypes.POINTER(_Options)]
    lib.s2s_open.argtypes, lib.s2s_open.restype = [strings, ctypes.c_int, ctypes.POINTER(_Options)], handle
    lib.s2s_translate.argtypes, lib.s2s_translate.restype = [handle, strings, ctypes.c_int], handle
    lib.s2s_results_count.argtypes, lib.s2s_results_count.restype = [handle], ctypes.c_int
    lib.s2s_results_n_best.argtypes, lib.s2s_results_n_best.restype = [handle, ctypes.c_int], ctypes.c_int
    lib.s2s_results_text.argtypes, lib.s2s_results_text.restype = [handle, ctypes.c_int, ctypes.c_int], text
    for name in ("s2s_results_score", "s2s_results_log_prob"):
        getattr(lib, name).argtypes, getattr(lib, name).restype = [handle, ctypes.c_int, ctypes.c_int], ctypes.c_double
    lib.s2s_results_free.argtypes = [handle]
    lib.s2s_close.argtypes = [handle]
    lib.s2s_last_error.restype = text
    return lib


class Translator:
    """A model folder made by `seq2seq train` (or a list of folders: an ensemble)."""

    def __init__(self, model, beam=5, n_best=1, length_penalty=0.6, int8=False, threads=1, shortlist=True,
                 checkpoint="best", library=None):
        self._lib = _load(library)
        # close() must not free the handle while another thread translates with it.
        self._lock = threading.RLock()
        self._users = 0
        self._handle = None
        options = _Options()
        self._lib.s2s_options_init(ctypes.byref(options))
        options.beam, options.n_best, options.length_penalty = beam, n_best, length_penalty
        options.int8, options.threads, options.shortlist = int(int8), threads, int(shortlist)
        options.last_checkpoint = int(checkpoint == "last")
        models = [model] if isinstance(model, (str, os.PathLike)) else list(model)
        paths = (ctypes.c_char_p * len(models))(*[os.fsencode(m) for m in models])
        self._handle = self._lib.s2s_open(paths, len(models), ctypes.byref(options))
        if not self._handle:
            raise Seq2SeqError(self._error())

    def _error(self):
        message = self._lib.s2s_last_error()
        return message.decode("utf-8", "replace") if message else "unknown error"

    def translate(self, sentences, n_best=False):
        """The best translation of each sentence (a list of str); with n_best=True, for each
        sentence the list of (text, score, log_prob) best first."""
        with self._lock:
            if self._handle is None or self._closing:
                raise Seq2SeqError("the translator is closed")
            self._users += 1
            handle = self._handle
        try:
            encoded = [s.encode("utf-8") for s in sentences]
            array = (ctypes.c_char_p * len(encoded))(*encoded)
            results = self._lib.s2s_translate(handle, array, len(encoded))
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._closing:
                    self._release()
        if not results:
            raise Seq2SeqError(self._error())
        try:
            lib, out = self._lib, []
            for i in range(lib.s2s_results_count(results)):
                ranks = [(lib.s2s_results_text(results, i, k).decode("utf-8"), lib.s2s_results_score(results, i, k),
                          lib.s2s_results_log_prob(results, i, k)) for k in range(lib.s2s_results_n_best(results, i))]
                out.append(ranks if n_best else ranks[0][0])
            return out
        finally:
            self._lib.s2s_results_free(results)

    _closing = False

    def _release(self):
        if self._handle:
            self._lib.s2s_close(self._handle)
            self._handle = None

    def close(self):
        """Finishes queued work and frees the translator (also on garbage collection); a call
        still translating on another thread finishes first."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            self._closing = True
            if self._users == 0:
                self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
