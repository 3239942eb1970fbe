"""``prefetch_row(cells, r, b)``: a jitted hint to bring the cache lines of the K-vector
``cells[r, b, :]`` towards the core (LLVM ``llvm.prefetch``; no effect on results).

The count-min kernels read or write a word's ``d`` hashed K-vectors at random places; issuing
the next word's loads a few words ahead hides most of their cache misses.
"""
from llvmlite import binding as _llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_NAME = "llvm.prefetch.p0" if _llvm.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"
_LINE = 64  # bytes per cache line


@intrinsic
def _prefetch(typingctx, arr, i, j, k):
    """Prefetch (read, high locality) the address of ``arr[i, j, k]``."""
    sig = types.void(arr, i, j, k)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp)
               for v, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _NAME)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, inline="always")
def prefetch_row(cells, r, b):
    """Prefetch every cache line of ``cells[r, b, :]`` (a C-contiguous 3-d array)."""
    K = cells.shape[2]
    step = max(1, _LINE // cells.itemsize)
    for k in range(0, K, step):
        _prefetch(cells, r, b, k)
    _prefetch(cells, r, b, K - 1)  # the last line, when the row does not start on a line
