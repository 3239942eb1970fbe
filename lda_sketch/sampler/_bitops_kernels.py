"""``popcount(x)`` and ``trailing_zeros(x)`` of a uint64, as jitted LLVM intrinsics
(``llvm.ctpop.i64``, ``llvm.cttz.i64``): one instruction each where the CPU has it."""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _unary_i64(name, extra_false):
    @intrinsic
    def _op(typingctx, x):
        sig = types.int64(types.uint64)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            argtys = [i64, ir.IntType(1)] if extra_false else [i64]
            fn = builder.module.declare_intrinsic(name, [i64], ir.FunctionType(i64, argtys))
            call_args = [args[0], ir.Constant(ir.IntType(1), 0)] if extra_false else [args[0]]
            return builder.call(fn, call_args)

        return sig, codegen

    return _op


popcount = _unary_i64("llvm.ctpop", False)
"""Number of set bits of a uint64 (int64)."""

trailing_zeros = _unary_i64("llvm.cttz", True)
"""Index of the lowest set bit of a uint64 (int64; 64 for 0)."""
