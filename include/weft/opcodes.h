/* include/weft/opcodes.h -- every Wasm 3.0 + stack-switching instruction, as one X-macro table.
 *
 * Shared by the text front end (mnemonic -> opcode), the decoder (immediate shapes), the validator
 * (simple signatures) and the codegen. Depends on: nothing.
 *
 * Internal opcode numbers (weft_op) are 16 bits:
 *   0x000-0x0FF  single-byte opcodes, the byte itself
 *   0x100-0x1FF  0xFB (GC) prefix:            0x100 + sub-opcode
 *   0x200-0x2FF  0xFC (misc) prefix:          0x200 + sub-opcode
 *   0x400-0x5FF  0xFD (SIMD, relaxed SIMD):   0x400 + sub-opcode (a u32 LEB in the binary)
 *
 * Columns: X(ID, code, "text mnemonic", IMMEDIATE-SHAPE, "signature")
 *   Text mnemonics are the spec's, except four internal spellings that share one text keyword:
 *   "select_t" (select with a (result) type), "ref.test_null", "ref.cast_null" (the nullable forms of
 *   ref.test / ref.cast, chosen by the text parser from the reference type's nullability).
 *   The signature is "operands:results" for instructions whose typing is fixed:
 *   i=i32 l=i64 f=f32 d=f64 v=v128, a = an address of the memory's index type (i32 or i64).
 *   "-" means the typing depends on immediates or context (control, variables, references, ...).
 *
 * Immediate shapes (how weft_instr.imm is filled, see module.h):
 *   NONE
 *   BLOCK          x.a = blocktype
 *   LABEL          x.a = label depth
 *   BR_TABLE       x.a = pool index of the labels, x.b = count (default label at pool[x.a + x.b])
 *   FUNC           x.a = funcidx
 *   CALL_INDIRECT  x.a = typeidx, x.b = tableidx
 *   TYPE           x.a = typeidx
 *   TYPE_TYPE      x.a, x.b = typeidx, typeidx
 *   TYPE_FIELD     x.a = typeidx, x.b = fieldidx
 *   TYPE_N         x.a = typeidx, x.b = count
 *   TYPE_DATA      x.a = typeidx, x.b = dataidx
 *   TYPE_ELEM      x.a = typeidx, x.b = elemidx
 *   SELECT_T       x.a = count of types, x.b = the first type (weft_valtype)
 *   TRY_TABLE      x.a = blocktype, x.b = pool index of catches, x.c = count; each catch is three pool
 *                  words: kind (weft_catch_kind), tagidx (0 for catch_all*), label depth
 *   LOCAL/GLOBAL/TABLE/MEM/TAG/DATA/ELEM   x.a = index
 *   MEMARG         mem.offset, mem.mem (memidx), mem.align (log2 of the alignment)
 *   MEMARG_LANE    as MEMARG, plus lane in weft_instr.b
 *   MEM_DATA       x.a = dataidx, x.b = memidx          (memory.init)
 *   MEM_MEM        x.a = dst memidx, x.b = src memidx   (memory.copy)
 *   TABLE_ELEM     x.a = elemidx, x.b = tableidx        (table.init)
 *   TABLE_TABLE    x.a = dst tableidx, x.b = src tableidx (table.copy)
 *   I32/I64        i32 / i64
 *   F32/F64        f32 / f64 raw bits
 *   V128           v128 bytes (little-endian lane order)
 *   HEAPTYPE       x.a = the reference type (ref null ht) as a weft_valtype
 *   REFTYPE        x.a = the target reference type as a weft_valtype (nullability from the opcode)
 *   BR_ON_CAST     weft_instr.b = cast flags byte, x.a = label, x.b = source reftype, x.c = target reftype
 *   LANE           weft_instr.b = lane index
 *   SHUFFLE        v128 = the 16 lane indices
 *   RESUME         x.a = typeidx, x.b = pool index of handlers, x.c = count; each handler is three
 *                  pool words: kind (weft_handler_kind), tagidx, label depth (0 for switch)
 *   RESUME_THROW   as RESUME, plus x.d = tagidx of the exception
 *   SWITCH         x.a = typeidx, x.b = tagidx
 */
#ifndef WEFT_OPCODES_H
#define WEFT_OPCODES_H

#define WEFT_OPCODE_LIST(X) \
  X(UNREACHABLE,                         0x000, "unreachable",                           NONE,          "-") \
  X(NOP,                                 0x001, "nop",                                   NONE,          "-") \
  X(BLOCK,                               0x002, "block",                                 BLOCK,         "-") \
  X(LOOP,                                0x003, "loop",                                  BLOCK,         "-") \
  X(IF,                                  0x004, "if",                                    BLOCK,         "-") \
  X(ELSE,                                0x005, "else",                                  NONE,          "-") \
  X(THROW,                               0x008, "throw",                                 TAG,           "-") \
  X(THROW_REF,                           0x00A, "throw_ref",                             NONE,          "-") \
  X(END,                                 0x00B, "end",                                   NONE,          "-") \
  X(BR,                                  0x00C, "br",                                    LABEL,         "-") \
  X(BR_IF,                               0x00D, "br_if",                                 LABEL,         "-") \
  X(BR_TABLE,                            0x00E, "br_table",                              BR_TABLE,      "-") \
  X(RETURN,                              0x00F, "return",                                NONE,          "-") \
  X(CALL,                                0x010, "call",                                  FUNC,          "-") \
  X(CALL_INDIRECT,                       0x011, "call_indirect",                         CALL_INDIRECT, "-") \
  X(RETURN_CALL,                         0x012, "return_call",                           FUNC,          "-") \
  X(RETURN_CALL_INDIRECT,                0x013, "return_call_indirect",                  CALL_INDIRECT, "-") \
  X(CALL_REF,                            0x014, "call_ref",                              TYPE,          "-") \
  X(RETURN_CALL_REF,                     0x015, "return_call_ref",                       TYPE,          "-") \
  X(DROP,                                0x01A, "drop",                                  NONE,          "-") \
  X(SELECT,                              0x01B, "select",                                NONE,          "-") \
  X(SELECT_T,                            0x01C, "select_t",                              SELECT_T,      "-") \
  X(TRY_TABLE,                           0x01F, "try_table",                             TRY_TABLE,     "-") \
  X(LOCAL_GET,                           0x020, "local.get",                             LOCAL,         "-") \
  X(LOCAL_SET,                           0x021, "local.set",                             LOCAL,         "-") \
  X(LOCAL_TEE,                           0x022, "local.tee",                             LOCAL,         "-") \
  X(GLOBAL_GET,                          0x023, "global.get",                            GLOBAL,        "-") \
  X(GLOBAL_SET,                          0x024, "global.set",                            GLOBAL,        "-") \
  X(TABLE_GET,                           0x025, "table.get",                             TABLE,         "-") \
  X(TABLE_SET,                           0x026, "table.set",                             TABLE,         "-") \
  X(I32_LOAD,                            0x028, "i32.load",                              MEMARG,        "a:i") \
  X(I64_LOAD,                            0x029, "i64.load",                              MEMARG,        "a:l") \
  X(F32_LOAD,                            0x02A, "f32.load",                              MEMARG,        "a:f") \
  X(F64_LOAD,                            0x02B, "f64.load",                              MEMARG,        "a:d") \
  X(I32_LOAD8_S,                         0x02C, "i32.load8_s",                           MEMARG,        "a:i") \
  X(I32_LOAD8_U,                         0x02D, "i32.load8_u",                           MEMARG,        "a:i") \
  X(I32_LOAD16_S,                        0x02E, "i32.load16_s",                          MEMARG,        "a:i") \
  X(I32_LOAD16_U,                        0x02F, "i32.load16_u",                          MEMARG,        "a:i") \
  X(I64_LOAD8_S,                         0x030, "i64.load8_s",                           MEMARG,        "a:l") \
  X(I64_LOAD8_U,                         0x031, "i64.load8_u",                           MEMARG,        "a:l") \
  X(I64_LOAD16_S,                        0x032, "i64.load16_s",                          MEMARG,        "a:l") \
  X(I64_LOAD16_U,                        0x033, "i64.load16_u",                          MEMARG,        "a:l") \
  X(I64_LOAD32_S,                        0x034, "i64.load32_s",                          MEMARG,        "a:l") \
  X(I64_LOAD32_U,                        0x035, "i64.load32_u",                          MEMARG,        "a:l") \
  X(I32_STORE,                           0x036, "i32.store",                             MEMARG,        "ai:") \
  X(I64_STORE,                           0x037, "i64.store",                             MEMARG,        "al:") \
  X(F32_STORE,                           0x038, "f32.store",                             MEMARG,        "af:") \
  X(F64_STORE,                           0x039, "f64.store",                             MEMARG,        "ad:") \
  X(I32_STORE8,                          0x03A, "i32.store8",                            MEMARG,        "ai:") \
  X(I32_STORE16,                         0x03B, "i32.store16",                           MEMARG,        "ai:") \
  X(I64_STORE8,                          0x03C, "i64.store8",                            MEMARG,        "al:") \
  X(I64_STORE16,                         0x03D, "i64.store16",                           MEMARG,        "al:") \
  X(I64_STORE32,                         0x03E, "i64.store32",                           MEMARG,        "al:") \
  X(MEMORY_SIZE,                         0x03F, "memory.size",                           MEM,           "-") \
  X(MEMORY_GROW,                         0x040, "memory.grow",                           MEM,           "-") \
  X(I32_CONST,                           0x041, "i32.const",                             I32,           ":i") \
  X(I64_CONST,                           0x042, "i64.const",                             I64,           ":l") \
  X(F32_CONST,                           0x043, "f32.const",                             F32,           ":f") \
  X(F64_CONST,                           0x044, "f64.const",                             F64,           ":d") \
  X(I32_EQZ,                             0x045, "i32.eqz",                               NONE,          "i:i") \
  X(I32_EQ,                              0x046, "i32.eq",                                NONE,          "ii:i") \
  X(I32_NE,                              0x047, "i32.ne",                                NONE,          "ii:i") \
  X(I32_LT_S,                            0x048, "i32.lt_s",                              NONE,          "ii:i") \
  X(I32_LT_U,                            0x049, "i32.lt_u",                              NONE,          "ii:i") \
  X(I32_GT_S,                            0x04A, "i32.gt_s",                              NONE,          "ii:i") \
  X(I32_GT_U,                            0x04B, "i32.gt_u",                              NONE,          "ii:i") \
  X(I32_LE_S,                            0x04C, "i32.le_s",                              NONE,          "ii:i") \
  X(I32_LE_U,                            0x04D, "i32.le_u",                              NONE,          "ii:i") \
  X(I32_GE_S,                            0x04E, "i32.ge_s",                              NONE,          "ii:i") \
  X(I32_GE_U,                            0x04F, "i32.ge_u",                              NONE,          "ii:i") \
  X(I64_EQZ,                             0x050, "i64.eqz",                               NONE,          "l:i") \
  X(I64_EQ,                              0x051, "i64.eq",                                NONE,          "ll:i") \
  X(I64_NE,                              0x052, "i64.ne",                                NONE,          "ll:i") \
  X(I64_LT_S,                            0x053, "i64.lt_s",                              NONE,          "ll:i") \
  X(I64_LT_U,                            0x054, "i64.lt_u",                              NONE,          "ll:i") \
  X(I64_GT_S,                            0x055, "i64.gt_s",                              NONE,          "ll:i") \
  X(I64_GT_U,                            0x056, "i64.gt_u",                              NONE,          "ll:i") \
  X(I64_LE_S,                            0x057, "i64.le_s",                              NONE,          "ll:i") \
  X(I64_LE_U,                            0x058, "i64.le_u",                              NONE,          "ll:i") \
  X(I64_GE_S,                            0x059, "i64.ge_s",                              NONE,          "ll:i") \
  X(I64_GE_U,                            0x05A, "i64.ge_u",                              NONE,          "ll:i") \
  X(F32_EQ,                              0x05B, "f32.eq",                                NONE,          "ff:i") \
  X(F32_NE,                              0x05C, "f32.ne",                                NONE,          "ff:i") \
  X(F32_LT,                              0x05D, "f32.lt",                                NONE,          "ff:i") \
  X(F32_GT,                              0x05E, "f32.gt",                                NONE,          "ff:i") \
  X(F32_LE,                              0x05F, "f32.le",                                NONE,          "ff:i") \
  X(F32_GE,                              0x060, "f32.ge",                                NONE,          "ff:i") \
  X(F64_EQ,                              0x061, "f64.eq",                                NONE,          "dd:i") \
  X(F64_NE,                              0x062, "f64.ne",                                NONE,          "dd:i") \
  X(F64_LT,                              0x063, "f64.lt",                                NONE,          "dd:i") \
  X(F64_GT,                              0x064, "f64.gt",                                NONE,          "dd:i") \
  X(F64_LE,                              0x065, "f64.le",                                NONE,          "dd:i") \
  X(F64_GE,                              0x066, "f64.ge",                                NONE,          "dd:i") \
  X(I32_CLZ,                             0x067, "i32.clz",                               NONE,          "i:i") \
  X(I32_CTZ,                             0x068, "i32.ctz",                               NONE,          "i:i") \
  X(I32_POPCNT,                          0x069, "i32.popcnt",                            NONE,          "i:i") \
  X(I32_ADD,                             0x06A, "i32.add",                               NONE,          "ii:i") \
  X(I32_SUB,                             0x06B, "i32.sub",                               NONE,          "ii:i") \
  X(I32_MUL,                             0x06C, "i32.mul",                               NONE,          "ii:i") \
  X(I32_DIV_S,                           0x06D, "i32.div_s",                             NONE,          "ii:i") \
  X(I32_DIV_U,                           0x06E, "i32.div_u",                             NONE,          "ii:i") \
  X(I32_REM_S,                           0x06F, "i32.rem_s",                             NONE,          "ii:i") \
  X(I32_REM_U,                           0x070, "i32.rem_u",                             NONE,          "ii:i") \
  X(I32_AND,                             0x071, "i32.and",                               NONE,          "ii:i") \
  X(I32_OR,                              0x072, "i32.or",                                NONE,          "ii:i") \
  X(I32_XOR,                             0x073, "i32.xor",                               NONE,          "ii:i") \
  X(I32_SHL,                             0x074, "i32.shl",                               NONE,          "ii:i") \
  X(I32_SHR_S,                           0x075, "i32.shr_s",                             NONE,          "ii:i") \
  X(I32_SHR_U,                           0x076, "i32.shr_u",                             NONE,          "ii:i") \
  X(I32_ROTL,                            0x077, "i32.rotl",                              NONE,          "ii:i") \
  X(I32_ROTR,                            0x078, "i32.rotr",                              NONE,          "ii:i") \
  X(I64_CLZ,                             0x079, "i64.clz",                               NONE,          "l:l") \
  X(I64_CTZ,                             0x07A, "i64.ctz",                               NONE,          "l:l") \
  X(I64_POPCNT,                          0x07B, "i64.popcnt",                            NONE,          "l:l") \
  X(I64_ADD,                             0x07C, "i64.add",                               NONE,          "ll:l") \
  X(I64_SUB,                             0x07D, "i64.sub",                               NONE,          "ll:l") \
  X(I64_MUL,                             0x07E, "i64.mul",                               NONE,          "ll:l") \
  X(I64_DIV_S,                           0x07F, "i64.div_s",                             NONE,          "ll:l") \
  X(I64_DIV_U,                           0x080, "i64.div_u",                             NONE,          "ll:l") \
  X(I64_REM_S,                           0x081, "i64.rem_s",                             NONE,          "ll:l") \
  X(I64_REM_U,                           0x082, "i64.rem_u",                             NONE,          "ll:l") \
  X(I64_AND,                             0x083, "i64.and",                               NONE,          "ll:l") \
  X(I64_OR,                              0x084, "i64.or",                                NONE,          "ll:l") \
  X(I64_XOR,                             0x085, "i64.xor",                               NONE,          "ll:l") \
  X(I64_SHL,                             0x086, "i64.shl",                               NONE,          "ll:l") \
  X(I64_SHR_S,                           0x087, "i64.shr_s",                             NONE,          "ll:l") \
  X(I64_SHR_U,                           0x088, "i64.shr_u",                             NONE,          "ll:l") \
  X(I64_ROTL,                            0x089, "i64.rotl",                              NONE,          "ll:l") \
  X(I64_ROTR,                            0x08A, "i64.rotr",                              NONE,          "ll:l") \
  X(F32_ABS,                             0x08B, "f32.abs",                               NONE,          "f:f") \
  X(F32_NEG,                             0x08C, "f32.neg",                               NONE,          "f:f") \
  X(F32_CEIL,                            0x08D, "f32.ceil",                              NONE,          "f:f") \
  X(F32_FLOOR,                           0x08E, "f32.floor",                             NONE,          "f:f") \
  X(F32_TRUNC,                           0x08F, "f32.trunc",                             NONE,          "f:f") \
  X(F32_NEAREST,                         0x090, "f32.nearest",                           NONE,          "f:f") \
  X(F32_SQRT,                            0x091, "f32.sqrt",                              NONE,          "f:f") \
  X(F32_ADD,                             0x092, "f32.add",                               NONE,          "ff:f") \
  X(F32_SUB,                             0x093, "f32.sub",                               NONE,          "ff:f") \
  X(F32_MUL,                             0x094, "f32.mul",                               NONE,          "ff:f") \
  X(F32_DIV,                             0x095, "f32.div",                               NONE,          "ff:f") \
  X(F32_MIN,                             0x096, "f32.min",                               NONE,          "ff:f") \
  X(F32_MAX,                             0x097, "f32.max",                               NONE,          "ff:f") \
  X(F32_COPYSIGN,                        0x098, "f32.copysign",                          NONE,          "ff:f") \
  X(F64_ABS,                             0x099, "f64.abs",                               NONE,          "d:d") \
  X(F64_NEG,                             0x09A, "f64.neg",                               NONE,          "d:d") \
  X(F64_CEIL,                            0x09B, "f64.ceil",                              NONE,          "d:d") \
  X(F64_FLOOR,                           0x09C, "f64.floor",                             NONE,          "d:d") \
  X(F64_TRUNC,                           0x09D, "f64.trunc",                             NONE,          "d:d") \
  X(F64_NEAREST,                         0x09E, "f64.nearest",                           NONE,          "d:d") \
  X(F64_SQRT,                            0x09F, "f64.sqrt",                              NONE,          "d:d") \
  X(F64_ADD,                             0x0A0, "f64.add",                               NONE,          "dd:d") \
  X(F64_SUB,                             0x0A1, "f64.sub",                               NONE,          "dd:d") \
  X(F64_MUL,                             0x0A2, "f64.mul",                               NONE,          "dd:d") \
  X(F64_DIV,                             0x0A3, "f64.div",                               NONE,          "dd:d") \
  X(F64_MIN,                             0x0A4, "f64.min",                               NONE,          "dd:d") \
  X(F64_MAX,                             0x0A5, "f64.max",                               NONE,          "dd:d") \
  X(F64_COPYSIGN,                        0x0A6, "f64.copysign",                          NONE,          "dd:d") \
  X(I32_WRAP_I64,                        0x0A7, "i32.wrap_i64",                          NONE,          "l:i") \
  X(I32_TRUNC_F32_S,                     0x0A8, "i32.trunc_f32_s",                       NONE,          "f:i") \
  X(I32_TRUNC_F32_U,                     0x0A9, "i32.trunc_f32_u",                       NONE,          "f:i") \
  X(I32_TRUNC_F64_S,                     0x0AA, "i32.trunc_f64_s",                       NONE,          "d:i") \
  X(I32_TRUNC_F64_U,                     0x0AB, "i32.trunc_f64_u",                       NONE,          "d:i") \
  X(I64_EXTEND_I32_S,                    0x0AC, "i64.extend_i32_s",                      NONE,          "i:l") \
  X(I64_EXTEND_I32_U,                    0x0AD, "i64.extend_i32_u",                      NONE,          "i:l") \
  X(I64_TRUNC_F32_S,                     0x0AE, "i64.trunc_f32_s",                       NONE,          "f:l") \
  X(I64_TRUNC_F32_U,                     0x0AF, "i64.trunc_f32_u",                       NONE,          "f:l") \
  X(I64_TRUNC_F64_S,                     0x0B0, "i64.trunc_f64_s",                       NONE,          "d:l") \
  X(I64_TRUNC_F64_U,                     0x0B1, "i64.trunc_f64_u",                       NONE,          "d:l") \
  X(F32_CONVERT_I32_S,                   0x0B2, "f32.convert_i32_s",                     NONE,          "i:f") \
  X(F32_CONVERT_I32_U,                   0x0B3, "f32.convert_i32_u",                     NONE,          "i:f") \
  X(F32_CONVERT_I64_S,                   0x0B4, "f32.convert_i64_s",                     NONE,          "l:f") \
  X(F32_CONVERT_I64_U,                   0x0B5, "f32.convert_i64_u",                     NONE,          "l:f") \
  X(F32_DEMOTE_F64,                      0x0B6, "f32.demote_f64",                        NONE,          "d:f") \
  X(F64_CONVERT_I32_S,                   0x0B7, "f64.convert_i32_s",                     NONE,          "i:d") \
  X(F64_CONVERT_I32_U,                   0x0B8, "f64.convert_i32_u",                     NONE,          "i:d") \
  X(F64_CONVERT_I64_S,                   0x0B9, "f64.convert_i64_s",                     NONE,          "l:d") \
  X(F64_CONVERT_I64_U,                   0x0BA, "f64.convert_i64_u",                     NONE,          "l:d") \
  X(F64_PROMOTE_F32,                     0x0BB, "f64.promote_f32",                       NONE,          "f:d") \
  X(I32_REINTERPRET_F32,                 0x0BC, "i32.reinterpret_f32",                   NONE,          "f:i") \
  X(I64_REINTERPRET_F64,                 0x0BD, "i64.reinterpret_f64",                   NONE,          "d:l") \
  X(F32_REINTERPRET_I32,                 0x0BE, "f32.reinterpret_i32",                   NONE,          "i:f") \
  X(F64_REINTERPRET_I64,                 0x0BF, "f64.reinterpret_i64",                   NONE,          "l:d") \
  X(I32_EXTEND8_S,                       0x0C0, "i32.extend8_s",                         NONE,          "i:i") \
  X(I32_EXTEND16_S,                      0x0C1, "i32.extend16_s",                        NONE,          "i:i") \
  X(I64_EXTEND8_S,                       0x0C2, "i64.extend8_s",                         NONE,          "l:l") \
  X(I64_EXTEND16_S,                      0x0C3, "i64.extend16_s",                        NONE,          "l:l") \
  X(I64_EXTEND32_S,                      0x0C4, "i64.extend32_s",                        NONE,          "l:l") \
  X(REF_NULL,                            0x0D0, "ref.null",                              HEAPTYPE,      "-") \
  X(REF_IS_NULL,                         0x0D1, "ref.is_null",                           NONE,          "-") \
  X(REF_FUNC,                            0x0D2, "ref.func",                              FUNC,          "-") \
  X(REF_EQ,                              0x0D3, "ref.eq",                                NONE,          "-") \
  X(REF_AS_NON_NULL,                     0x0D4, "ref.as_non_null",                       NONE,          "-") \
  X(BR_ON_NULL,                          0x0D5, "br_on_null",                            LABEL,         "-") \
  X(BR_ON_NON_NULL,                      0x0D6, "br_on_non_null",                        LABEL,         "-") \
  X(CONT_NEW,                            0x0E0, "cont.new",                              TYPE,          "-") \
  X(CONT_BIND,                           0x0E1, "cont.bind",                             TYPE_TYPE,     "-") \
  X(SUSPEND,                             0x0E2, "suspend",                               TAG,           "-") \
  X(RESUME,                              0x0E3, "resume",                                RESUME,        "-") \
  X(RESUME_THROW,                        0x0E4, "resume_throw",                          RESUME_THROW,  "-") \
  X(RESUME_THROW_REF,                    0x0E5, "resume_throw_ref",                      RESUME,        "-") \
  X(SWITCH,                              0x0E6, "switch",                                SWITCH,        "-") \
  X(STRUCT_NEW,                          0x100, "struct.new",                            TYPE,          "-") \
  X(STRUCT_NEW_DEFAULT,                  0x101, "struct.new_default",                    TYPE,          "-") \
  X(STRUCT_GET,                          0x102, "struct.get",                            TYPE_FIELD,    "-") \
  X(STRUCT_GET_S,                        0x103, "struct.get_s",                          TYPE_FIELD,    "-") \
  X(STRUCT_GET_U,                        0x104, "struct.get_u",                          TYPE_FIELD,    "-") \
  X(STRUCT_SET,                          0x105, "struct.set",                            TYPE_FIELD,    "-") \
  X(ARRAY_NEW,                           0x106, "array.new",                             TYPE,          "-") \
  X(ARRAY_NEW_DEFAULT,                   0x107, "array.new_default",                     TYPE,          "-") \
  X(ARRAY_NEW_FIXED,                     0x108, "array.new_fixed",                       TYPE_N,        "-") \
  X(ARRAY_NEW_DATA,                      0x109, "array.new_data",                        TYPE_DATA,     "-") \
  X(ARRAY_NEW_ELEM,                      0x10A, "array.new_elem",                        TYPE_ELEM,     "-") \
  X(ARRAY_GET,                           0x10B, "array.get",                             TYPE,          "-") \
  X(ARRAY_GET_S,                         0x10C, "array.get_s",                           TYPE,          "-") \
  X(ARRAY_GET_U,                         0x10D, "array.get_u",                           TYPE,          "-") \
  X(ARRAY_SET,                           0x10E, "array.set",                             TYPE,          "-") \
  X(ARRAY_LEN,                           0x10F, "array.len",                             NONE,          "-") \
  X(ARRAY_FILL,                          0x110, "array.fill",                            TYPE,          "-") \
  X(ARRAY_COPY,                          0x111, "array.copy",                            TYPE_TYPE,     "-") \
  X(ARRAY_INIT_DATA,                     0x112, "array.init_data",                       TYPE_DATA,     "-") \
  X(ARRAY_INIT_ELEM,                     0x113, "array.init_elem",                       TYPE_ELEM,     "-") \
  X(REF_TEST,                            0x114, "ref.test",                              REFTYPE,       "-") \
  X(REF_TEST_NULL,                       0x115, "ref.test_null",                         REFTYPE,       "-") \
  X(REF_CAST,                            0x116, "ref.cast",                              REFTYPE,       "-") \
  X(REF_CAST_NULL,                       0x117, "ref.cast_null",                         REFTYPE,       "-") \
  X(BR_ON_CAST,                          0x118, "br_on_cast",                            BR_ON_CAST,    "-") \
  X(BR_ON_CAST_FAIL,                     0x119, "br_on_cast_fail",                       BR_ON_CAST,    "-") \
  X(ANY_CONVERT_EXTERN,                  0x11A, "any.convert_extern",                    NONE,          "-") \
  X(EXTERN_CONVERT_ANY,                  0x11B, "extern.convert_any",                    NONE,          "-") \
  X(REF_I31,                             0x11C, "ref.i31",                               NONE,          "-") \
  X(I31_GET_S,                           0x11D, "i31.get_s",                             NONE,          "-") \
  X(I31_GET_U,                           0x11E, "i31.get_u",                             NONE,          "-") \
  X(I32_TRUNC_SAT_F32_S,                 0x200, "i32.trunc_sat_f32_s",                   NONE,          "f:i") \
  X(I32_TRUNC_SAT_F32_U,                 0x201, "i32.trunc_sat_f32_u",                   NONE,          "f:i") \
  X(I32_TRUNC_SAT_F64_S,                 0x202, "i32.trunc_sat_f64_s",                   NONE,          "d:i") \
  X(I32_TRUNC_SAT_F64_U,                 0x203, "i32.trunc_sat_f64_u",                   NONE,          "d:i") \
  X(I64_TRUNC_SAT_F32_S,                 0x204, "i64.trunc_sat_f32_s",                   NONE,          "f:l") \
  X(I64_TRUNC_SAT_F32_U,                 0x205, "i64.trunc_sat_f32_u",                   NONE,          "f:l") \
  X(I64_TRUNC_SAT_F64_S,                 0x206, "i64.trunc_sat_f64_s",                   NONE,          "d:l") \
  X(I64_TRUNC_SAT_F64_U,                 0x207, "i64.trunc_sat_f64_u",                   NONE,          "d:l") \
  X(MEMORY_INIT,                         0x208, "memory.init",                           MEM_DATA,      "-") \
  X(DATA_DROP,                           0x209, "data.drop",                             DATA,          "-") \
  X(MEMORY_COPY,                         0x20A, "memory.copy",                           MEM_MEM,       "-") \
  X(MEMORY_FILL,                         0x20B, "memory.fill",                           MEM,           "-") \
  X(TABLE_INIT,                          0x20C, "table.init",                            TABLE_ELEM,    "-") \
  X(ELEM_DROP,                           0x20D, "elem.drop",                             ELEM,          "-") \
  X(TABLE_COPY,                          0x20E, "table.copy",                            TABLE_TABLE,   "-") \
  X(TABLE_GROW,                          0x20F, "table.grow",                            TABLE,         "-") \
  X(TABLE_SIZE,                          0x210, "table.size",                            TABLE,         "-") \
  X(TABLE_FILL,                          0x211, "table.fill",                            TABLE,         "-") \
  X(V128_LOAD,                           0x400, "v128.load",                             MEMARG,        "a:v") \
  X(V128_LOAD8X8_S,                      0x401, "v128.load8x8_s",                        MEMARG,        "a:v") \
  X(V128_LOAD8X8_U,                      0x402, "v128.load8x8_u",                        MEMARG,        "a:v") \
  X(V128_LOAD16X4_S,                     0x403, "v128.load16x4_s",                       MEMARG,        "a:v") \
  X(V128_LOAD16X4_U,                     0x404, "v128.load16x4_u",                       MEMARG,        "a:v") \
  X(V128_LOAD32X2_S,                     0x405, "v128.load32x2_s",                       MEMARG,        "a:v") \
  X(V128_LOAD32X2_U,                     0x406, "v128.load32x2_u",                       MEMARG,        "a:v") \
  X(V128_LOAD8_SPLAT,                    0x407, "v128.load8_splat",                      MEMARG,        "a:v") \
  X(V128_LOAD16_SPLAT,                   0x408, "v128.load16_splat",                     MEMARG,        "a:v") \
  X(V128_LOAD32_SPLAT,                   0x409, "v128.load32_splat",                     MEMARG,        "a:v") \
  X(V128_LOAD64_SPLAT,                   0x40A, "v128.load64_splat",                     MEMARG,        "a:v") \
  X(V128_STORE,                          0x40B, "v128.store",                            MEMARG,        "av:") \
  X(V128_CONST,                          0x40C, "v128.const",                            V128,          ":v") \
  X(I8X16_SHUFFLE,                       0x40D, "i8x16.shuffle",                         SHUFFLE,       "vv:v") \
  X(I8X16_SWIZZLE,                       0x40E, "i8x16.swizzle",                         NONE,          "vv:v") \
  X(I8X16_SPLAT,                         0x40F, "i8x16.splat",                           NONE,          "i:v") \
  X(I16X8_SPLAT,                         0x410, "i16x8.splat",                           NONE,          "i:v") \
  X(I32X4_SPLAT,                         0x411, "i32x4.splat",                           NONE,          "i:v") \
  X(I64X2_SPLAT,                         0x412, "i64x2.splat",                           NONE,          "l:v") \
  X(F32X4_SPLAT,                         0x413, "f32x4.splat",                           NONE,          "f:v") \
  X(F64X2_SPLAT,                         0x414, "f64x2.splat",                           NONE,          "d:v") \
  X(I8X16_EXTRACT_LANE_S,                0x415, "i8x16.extract_lane_s",                  LANE,          "v:i") \
  X(I8X16_EXTRACT_LANE_U,                0x416, "i8x16.extract_lane_u",                  LANE,          "v:i") \
  X(I8X16_REPLACE_LANE,                  0x417, "i8x16.replace_lane",                    LANE,          "vi:v") \
  X(I16X8_EXTRACT_LANE_S,                0x418, "i16x8.extract_lane_s",                  LANE,          "v:i") \
  X(I16X8_EXTRACT_LANE_U,                0x419, "i16x8.extract_lane_u",                  LANE,          "v:i") \
  X(I16X8_REPLACE_LANE,                  0x41A, "i16x8.replace_lane",                    LANE,          "vi:v") \
  X(I32X4_EXTRACT_LANE,                  0x41B, "i32x4.extract_lane",                    LANE,          "v:i") \
  X(I32X4_REPLACE_LANE,                  0x41C, "i32x4.replace_lane",                    LANE,          "vi:v") \
  X(I64X2_EXTRACT_LANE,                  0x41D, "i64x2.extract_lane",                    LANE,          "v:l") \
  X(I64X2_REPLACE_LANE,                  0x41E, "i64x2.replace_lane",                    LANE,          "vl:v") \
  X(F32X4_EXTRACT_LANE,                  0x41F, "f32x4.extract_lane",                    LANE,          "v:f") \
  X(F32X4_REPLACE_LANE,                  0x420, "f32x4.replace_lane",                    LANE,          "vf:v") \
  X(F64X2_EXTRACT_LANE,                  0x421, "f64x2.extract_lane",                    LANE,          "v:d") \
  X(F64X2_REPLACE_LANE,                  0x422, "f64x2.replace_lane",                    LANE,          "vd:v") \
  X(I8X16_EQ,                            0x423, "i8x16.eq",                              NONE,          "vv:v") \
  X(I8X16_NE,                            0x424, "i8x16.ne",                              NONE,          "vv:v") \
  X(I8X16_LT_S,                          0x425, "i8x16.lt_s",                            NONE,          "vv:v") \
  X(I8X16_LT_U,                          0x426, "i8x16.lt_u",                            NONE,          "vv:v") \
  X(I8X16_GT_S,                          0x427, "i8x16.gt_s",                            NONE,          "vv:v") \
  X(I8X16_GT_U,                          0x428, "i8x16.gt_u",                            NONE,          "vv:v") \
  X(I8X16_LE_S,                          0x429, "i8x16.le_s",                            NONE,          "vv:v") \
  X(I8X16_LE_U,                          0x42A, "i8x16.le_u",                            NONE,          "vv:v") \
  X(I8X16_GE_S,                          0x42B, "i8x16.ge_s",                            NONE,          "vv:v") \
  X(I8X16_GE_U,                          0x42C, "i8x16.ge_u",                            NONE,          "vv:v") \
  X(I16X8_EQ,                            0x42D, "i16x8.eq",                              NONE,          "vv:v") \
  X(I16X8_NE,                            0x42E, "i16x8.ne",                              NONE,          "vv:v") \
  X(I16X8_LT_S,                          0x42F, "i16x8.lt_s",                            NONE,          "vv:v") \
  X(I16X8_LT_U,                          0x430, "i16x8.lt_u",                            NONE,          "vv:v") \
  X(I16X8_GT_S,                          0x431, "i16x8.gt_s",                            NONE,          "vv:v") \
  X(I16X8_GT_U,                          0x432, "i16x8.gt_u",                            NONE,          "vv:v") \
  X(I16X8_LE_S,                          0x433, "i16x8.le_s",                            NONE,          "vv:v") \
  X(I16X8_LE_U,                          0x434, "i16x8.le_u",                            NONE,          "vv:v") \
  X(I16X8_GE_S,                          0x435, "i16x8.ge_s",                            NONE,          "vv:v") \
  X(I16X8_GE_U,                          0x436, "i16x8.ge_u",                            NONE,          "vv:v") \
  X(I32X4_EQ,                            0x437, "i32x4.eq",                              NONE,          "vv:v") \
  X(I32X4_NE,                            0x438, "i32x4.ne",                              NONE,          "vv:v") \
  X(I32X4_LT_S,                          0x439, "i32x4.lt_s",                            NONE,          "vv:v") \
  X(I32X4_LT_U,                          0x43A, "i32x4.lt_u",                            NONE,          "vv:v") \
  X(I32X4_GT_S,                          0x43B, "i32x4.gt_s",                            NONE,          "vv:v") \
  X(I32X4_GT_U,                          0x43C, "i32x4.gt_u",                            NONE,          "vv:v") \
  X(I32X4_LE_S,                          0x43D, "i32x4.le_s",                            NONE,          "vv:v") \
  X(I32X4_LE_U,                          0x43E, "i32x4.le_u",                            NONE,          "vv:v") \
  X(I32X4_GE_S,                          0x43F, "i32x4.ge_s",                            NONE,          "vv:v") \
  X(I32X4_GE_U,                          0x440, "i32x4.ge_u",                            NONE,          "vv:v") \
  X(F32X4_EQ,                            0x441, "f32x4.eq",                              NONE,          "vv:v") \
  X(F32X4_NE,                            0x442, "f32x4.ne",                              NONE,          "vv:v") \
  X(F32X4_LT,                            0x443, "f32x4.lt",                              NONE,          "vv:v") \
  X(F32X4_GT,                            0x444, "f32x4.gt",                              NONE,          "vv:v") \
  X(F32X4_LE,                            0x445, "f32x4.le",                              NONE,          "vv:v") \
  X(F32X4_GE,                            0x446, "f32x4.ge",                              NONE,          "vv:v") \
  X(F64X2_EQ,                            0x447, "f64x2.eq",                              NONE,          "vv:v") \
  X(F64X2_NE,                            0x448, "f64x2.ne",                              NONE,          "vv:v") \
  X(F64X2_LT,                            0x449, "f64x2.lt",                              NONE,          "vv:v") \
  X(F64X2_GT,                            0x44A, "f64x2.gt",                              NONE,          "vv:v") \
  X(F64X2_LE,                            0x44B, "f64x2.le",                              NONE,          "vv:v") \
  X(F64X2_GE,                            0x44C, "f64x2.ge",                              NONE,          "vv:v") \
  X(V128_NOT,                            0x44D, "v128.not",                              NONE,          "v:v") \
  X(V128_AND,                            0x44E, "v128.and",                              NONE,          "vv:v") \
  X(V128_ANDNOT,                         0x44F, "v128.andnot",                           NONE,          "vv:v") \
  X(V128_OR,                             0x450, "v128.or",                               NONE,          "vv:v") \
  X(V128_XOR,                            0x451, "v128.xor",                              NONE,          "vv:v") \
  X(V128_BITSELECT,                      0x452, "v128.bitselect",                        NONE,          "vvv:v") \
  X(V128_ANY_TRUE,                       0x453, "v128.any_true",                         NONE,          "v:i") \
  X(V128_LOAD8_LANE,                     0x454, "v128.load8_lane",                       MEMARG_LANE,   "av:v") \
  X(V128_LOAD16_LANE,                    0x455, "v128.load16_lane",                      MEMARG_LANE,   "av:v") \
  X(V128_LOAD32_LANE,                    0x456, "v128.load32_lane",                      MEMARG_LANE,   "av:v") \
  X(V128_LOAD64_LANE,                    0x457, "v128.load64_lane",                      MEMARG_LANE,   "av:v") \
  X(V128_STORE8_LANE,                    0x458, "v128.store8_lane",                      MEMARG_LANE,   "av:") \
  X(V128_STORE16_LANE,                   0x459, "v128.store16_lane",                     MEMARG_LANE,   "av:") \
  X(V128_STORE32_LANE,                   0x45A, "v128.store32_lane",                     MEMARG_LANE,   "av:") \
  X(V128_STORE64_LANE,                   0x45B, "v128.store64_lane",                     MEMARG_LANE,   "av:") \
  X(V128_LOAD32_ZERO,                    0x45C, "v128.load32_zero",                      MEMARG,        "a:v") \
  X(V128_LOAD64_ZERO,                    0x45D, "v128.load64_zero",                      MEMARG,        "a:v") \
  X(F32X4_DEMOTE_F64X2_ZERO,             0x45E, "f32x4.demote_f64x2_zero",               NONE,          "v:v") \
  X(F64X2_PROMOTE_LOW_F32X4,             0x45F, "f64x2.promote_low_f32x4",               NONE,          "v:v") \
  X(I8X16_ABS,                           0x460, "i8x16.abs",                             NONE,          "v:v") \
  X(I8X16_NEG,                           0x461, "i8x16.neg",                             NONE,          "v:v") \
  X(I8X16_POPCNT,                        0x462, "i8x16.popcnt",                          NONE,          "v:v") \
  X(I8X16_ALL_TRUE,                      0x463, "i8x16.all_true",                        NONE,          "v:i") \
  X(I8X16_BITMASK,                       0x464, "i8x16.bitmask",                         NONE,          "v:i") \
  X(I8X16_NARROW_I16X8_S,                0x465, "i8x16.narrow_i16x8_s",                  NONE,          "vv:v") \
  X(I8X16_NARROW_I16X8_U,                0x466, "i8x16.narrow_i16x8_u",                  NONE,          "vv:v") \
  X(F32X4_CEIL,                          0x467, "f32x4.ceil",                            NONE,          "v:v") \
  X(F32X4_FLOOR,                         0x468, "f32x4.floor",                           NONE,          "v:v") \
  X(F32X4_TRUNC,                         0x469, "f32x4.trunc",                           NONE,          "v:v") \
  X(F32X4_NEAREST,                       0x46A, "f32x4.nearest",                         NONE,          "v:v") \
  X(I8X16_SHL,                           0x46B, "i8x16.shl",                             NONE,          "vi:v") \
  X(I8X16_SHR_S,                         0x46C, "i8x16.shr_s",                           NONE,          "vi:v") \
  X(I8X16_SHR_U,                         0x46D, "i8x16.shr_u",                           NONE,          "vi:v") \
  X(I8X16_ADD,                           0x46E, "i8x16.add",                             NONE,          "vv:v") \
  X(I8X16_ADD_SAT_S,                     0x46F, "i8x16.add_sat_s",                       NONE,          "vv:v") \
  X(I8X16_ADD_SAT_U,                     0x470, "i8x16.add_sat_u",                       NONE,          "vv:v") \
  X(I8X16_SUB,                           0x471, "i8x16.sub",                             NONE,          "vv:v") \
  X(I8X16_SUB_SAT_S,                     0x472, "i8x16.sub_sat_s",                       NONE,          "vv:v") \
  X(I8X16_SUB_SAT_U,                     0x473, "i8x16.sub_sat_u",                       NONE,          "vv:v") \
  X(F64X2_CEIL,                          0x474, "f64x2.ceil",                            NONE,          "v:v") \
  X(F64X2_FLOOR,                         0x475, "f64x2.floor",                           NONE,          "v:v") \
  X(I8X16_MIN_S,                         0x476, "i8x16.min_s",                           NONE,          "vv:v") \
  X(I8X16_MIN_U,                         0x477, "i8x16.min_u",                           NONE,          "vv:v") \
  X(I8X16_MAX_S,                         0x478, "i8x16.max_s",                           NONE,          "vv:v") \
  X(I8X16_MAX_U,                         0x479, "i8x16.max_u",                           NONE,          "vv:v") \
  X(F64X2_TRUNC,                         0x47A, "f64x2.trunc",                           NONE,          "v:v") \
  X(I8X16_AVGR_U,                        0x47B, "i8x16.avgr_u",                          NONE,          "vv:v") \
  X(I16X8_EXTADD_PAIRWISE_I8X16_S,       0x47C, "i16x8.extadd_pairwise_i8x16_s",         NONE,          "v:v") \
  X(I16X8_EXTADD_PAIRWISE_I8X16_U,       0x47D, "i16x8.extadd_pairwise_i8x16_u",         NONE,          "v:v") \
  X(I32X4_EXTADD_PAIRWISE_I16X8_S,       0x47E, "i32x4.extadd_pairwise_i16x8_s",         NONE,          "v:v") \
  X(I32X4_EXTADD_PAIRWISE_I16X8_U,       0x47F, "i32x4.extadd_pairwise_i16x8_u",         NONE,          "v:v") \
  X(I16X8_ABS,                           0x480, "i16x8.abs",                             NONE,          "v:v") \
  X(I16X8_NEG,                           0x481, "i16x8.neg",                             NONE,          "v:v") \
  X(I16X8_Q15MULR_SAT_S,                 0x482, "i16x8.q15mulr_sat_s",                   NONE,          "vv:v") \
  X(I16X8_ALL_TRUE,                      0x483, "i16x8.all_true",                        NONE,          "v:i") \
  X(I16X8_BITMASK,                       0x484, "i16x8.bitmask",                         NONE,          "v:i") \
  X(I16X8_NARROW_I32X4_S,                0x485, "i16x8.narrow_i32x4_s",                  NONE,          "vv:v") \
  X(I16X8_NARROW_I32X4_U,                0x486, "i16x8.narrow_i32x4_u",                  NONE,          "vv:v") \
  X(I16X8_EXTEND_LOW_I8X16_S,            0x487, "i16x8.extend_low_i8x16_s",              NONE,          "v:v") \
  X(I16X8_EXTEND_HIGH_I8X16_S,           0x488, "i16x8.extend_high_i8x16_s",             NONE,          "v:v") \
  X(I16X8_EXTEND_LOW_I8X16_U,            0x489, "i16x8.extend_low_i8x16_u",              NONE,          "v:v") \
  X(I16X8_EXTEND_HIGH_I8X16_U,           0x48A, "i16x8.extend_high_i8x16_u",             NONE,          "v:v") \
  X(I16X8_SHL,                           0x48B, "i16x8.shl",                             NONE,          "vi:v") \
  X(I16X8_SHR_S,                         0x48C, "i16x8.shr_s",                           NONE,          "vi:v") \
  X(I16X8_SHR_U,                         0x48D, "i16x8.shr_u",                           NONE,          "vi:v") \
  X(I16X8_ADD,                           0x48E, "i16x8.add",                             NONE,          "vv:v") \
  X(I16X8_ADD_SAT_S,                     0x48F, "i16x8.add_sat_s",                       NONE,          "vv:v") \
  X(I16X8_ADD_SAT_U,                     0x490, "i16x8.add_sat_u",                       NONE,          "vv:v") \
  X(I16X8_SUB,                           0x491, "i16x8.sub",                             NONE,          "vv:v") \
  X(I16X8_SUB_SAT_S,                     0x492, "i16x8.sub_sat_s",                       NONE,          "vv:v") \
  X(I16X8_SUB_SAT_U,                     0x493, "i16x8.sub_sat_u",                       NONE,          "vv:v") \
  X(F64X2_NEAREST,                       0x494, "f64x2.nearest",                         NONE,          "v:v") \
  X(I16X8_MUL,                           0x495, "i16x8.mul",                             NONE,          "vv:v") \
  X(I16X8_MIN_S,                         0x496, "i16x8.min_s",                           NONE,          "vv:v") \
  X(I16X8_MIN_U,                         0x497, "i16x8.min_u",                           NONE,          "vv:v") \
  X(I16X8_MAX_S,                         0x498, "i16x8.max_s",                           NONE,          "vv:v") \
  X(I16X8_MAX_U,                         0x499, "i16x8.max_u",                           NONE,          "vv:v") \
  X(I16X8_AVGR_U,                        0x49B, "i16x8.avgr_u",                          NONE,          "vv:v") \
  X(I16X8_EXTMUL_LOW_I8X16_S,            0x49C, "i16x8.extmul_low_i8x16_s",              NONE,          "vv:v") \
  X(I16X8_EXTMUL_HIGH_I8X16_S,           0x49D, "i16x8.extmul_high_i8x16_s",             NONE,          "vv:v") \
  X(I16X8_EXTMUL_LOW_I8X16_U,            0x49E, "i16x8.extmul_low_i8x16_u",              NONE,          "vv:v") \
  X(I16X8_EXTMUL_HIGH_I8X16_U,           0x49F, "i16x8.extmul_high_i8x16_u",             NONE,          "vv:v") \
  X(I32X4_ABS,                           0x4A0, "i32x4.abs",                             NONE,          "v:v") \
  X(I32X4_NEG,                           0x4A1, "i32x4.neg",                             NONE,          "v:v") \
  X(I32X4_ALL_TRUE,                      0x4A3, "i32x4.all_true",                        NONE,          "v:i") \
  X(I32X4_BITMASK,                       0x4A4, "i32x4.bitmask",                         NONE,          "v:i") \
  X(I32X4_EXTEND_LOW_I16X8_S,            0x4A7, "i32x4.extend_low_i16x8_s",              NONE,          "v:v") \
  X(I32X4_EXTEND_HIGH_I16X8_S,           0x4A8, "i32x4.extend_high_i16x8_s",             NONE,          "v:v") \
  X(I32X4_EXTEND_LOW_I16X8_U,            0x4A9, "i32x4.extend_low_i16x8_u",              NONE,          "v:v") \
  X(I32X4_EXTEND_HIGH_I16X8_U,           0x4AA, "i32x4.extend_high_i16x8_u",             NONE,          "v:v") \
  X(I32X4_SHL,                           0x4AB, "i32x4.shl",                             NONE,          "vi:v") \
  X(I32X4_SHR_S,                         0x4AC, "i32x4.shr_s",                           NONE,          "vi:v") \
  X(I32X4_SHR_U,                         0x4AD, "i32x4.shr_u",                           NONE,          "vi:v") \
  X(I32X4_ADD,                           0x4AE, "i32x4.add",                             NONE,          "vv:v") \
  X(I32X4_SUB,                           0x4B1, "i32x4.sub",                             NONE,          "vv:v") \
  X(I32X4_MUL,                           0x4B5, "i32x4.mul",                             NONE,          "vv:v") \
  X(I32X4_MIN_S,                         0x4B6, "i32x4.min_s",                           NONE,          "vv:v") \
  X(I32X4_MIN_U,                         0x4B7, "i32x4.min_u",                           NONE,          "vv:v") \
  X(I32X4_MAX_S,                         0x4B8, "i32x4.max_s",                           NONE,          "vv:v") \
  X(I32X4_MAX_U,                         0x4B9, "i32x4.max_u",                           NONE,          "vv:v") \
  X(I32X4_DOT_I16X8_S,                   0x4BA, "i32x4.dot_i16x8_s",                     NONE,          "vv:v") \
  X(I32X4_EXTMUL_LOW_I16X8_S,            0x4BC, "i32x4.extmul_low_i16x8_s",              NONE,          "vv:v") \
  X(I32X4_EXTMUL_HIGH_I16X8_S,           0x4BD, "i32x4.extmul_high_i16x8_s",             NONE,          "vv:v") \
  X(I32X4_EXTMUL_LOW_I16X8_U,            0x4BE, "i32x4.extmul_low_i16x8_u",              NONE,          "vv:v") \
  X(I32X4_EXTMUL_HIGH_I16X8_U,           0x4BF, "i32x4.extmul_high_i16x8_u",             NONE,          "vv:v") \
  X(I64X2_ABS,                           0x4C0, "i64x2.abs",                             NONE,          "v:v") \
  X(I64X2_NEG,                           0x4C1, "i64x2.neg",                             NONE,          "v:v") \
  X(I64X2_ALL_TRUE,                      0x4C3, "i64x2.all_true",                        NONE,          "v:i") \
  X(I64X2_BITMASK,                       0x4C4, "i64x2.bitmask",                         NONE,          "v:i") \
  X(I64X2_EXTEND_LOW_I32X4_S,            0x4C7, "i64x2.extend_low_i32x4_s",              NONE,          "v:v") \
  X(I64X2_EXTEND_HIGH_I32X4_S,           0x4C8, "i64x2.extend_high_i32x4_s",             NONE,          "v:v") \
  X(I64X2_EXTEND_LOW_I32X4_U,            0x4C9, "i64x2.extend_low_i32x4_u",              NONE,          "v:v") \
  X(I64X2_EXTEND_HIGH_I32X4_U,           0x4CA, "i64x2.extend_high_i32x4_u",             NONE,          "v:v") \
  X(I64X2_SHL,                           0x4CB, "i64x2.shl",                             NONE,          "vi:v") \
  X(I64X2_SHR_S,                         0x4CC, "i64x2.shr_s",                           NONE,          "vi:v") \
  X(I64X2_SHR_U,                         0x4CD, "i64x2.shr_u",                           NONE,          "vi:v") \
  X(I64X2_ADD,                           0x4CE, "i64x2.add",                             NONE,          "vv:v") \
  X(I64X2_SUB,                           0x4D1, "i64x2.sub",                             NONE,          "vv:v") \
  X(I64X2_MUL,                           0x4D5, "i64x2.mul",                             NONE,          "vv:v") \
  X(I64X2_EQ,                            0x4D6, "i64x2.eq",                              NONE,          "vv:v") \
  X(I64X2_NE,                            0x4D7, "i64x2.ne",                              NONE,          "vv:v") \
  X(I64X2_LT_S,                          0x4D8, "i64x2.lt_s",                            NONE,          "vv:v") \
  X(I64X2_GT_S,                          0x4D9, "i64x2.gt_s",                            NONE,          "vv:v") \
  X(I64X2_LE_S,                          0x4DA, "i64x2.le_s",                            NONE,          "vv:v") \
  X(I64X2_GE_S,                          0x4DB, "i64x2.ge_s",                            NONE,          "vv:v") \
  X(I64X2_EXTMUL_LOW_I32X4_S,            0x4DC, "i64x2.extmul_low_i32x4_s",              NONE,          "vv:v") \
  X(I64X2_EXTMUL_HIGH_I32X4_S,           0x4DD, "i64x2.extmul_high_i32x4_s",             NONE,          "vv:v") \
  X(I64X2_EXTMUL_LOW_I32X4_U,            0x4DE, "i64x2.extmul_low_i32x4_u",              NONE,          "vv:v") \
  X(I64X2_EXTMUL_HIGH_I32X4_U,           0x4DF, "i64x2.extmul_high_i32x4_u",             NONE,          "vv:v") \
  X(F32X4_ABS,                           0x4E0, "f32x4.abs",                             NONE,          "v:v") \
  X(F32X4_NEG,                           0x4E1, "f32x4.neg",                             NONE,          "v:v") \
  X(F32X4_SQRT,                          0x4E3, "f32x4.sqrt",                            NONE,          "v:v") \
  X(F32X4_ADD,                           0x4E4, "f32x4.add",                             NONE,          "vv:v") \
  X(F32X4_SUB,                           0x4E5, "f32x4.sub",                             NONE,          "vv:v") \
  X(F32X4_MUL,                           0x4E6, "f32x4.mul",                             NONE,          "vv:v") \
  X(F32X4_DIV,                           0x4E7, "f32x4.div",                             NONE,          "vv:v") \
  X(F32X4_MIN,                           0x4E8, "f32x4.min",                             NONE,          "vv:v") \
  X(F32X4_MAX,                           0x4E9, "f32x4.max",                             NONE,          "vv:v") \
  X(F32X4_PMIN,                          0x4EA, "f32x4.pmin",                            NONE,          "vv:v") \
  X(F32X4_PMAX,                          0x4EB, "f32x4.pmax",                            NONE,          "vv:v") \
  X(F64X2_ABS,                           0x4EC, "f64x2.abs",                             NONE,          "v:v") \
  X(F64X2_NEG,                           0x4ED, "f64x2.neg",                             NONE,          "v:v") \
  X(F64X2_SQRT,                          0x4EF, "f64x2.sqrt",                            NONE,          "v:v") \
  X(F64X2_ADD,                           0x4F0, "f64x2.add",                             NONE,          "vv:v") \
  X(F64X2_SUB,                           0x4F1, "f64x2.sub",                             NONE,          "vv:v") \
  X(F64X2_MUL,                           0x4F2, "f64x2.mul",                             NONE,          "vv:v") \
  X(F64X2_DIV,                           0x4F3, "f64x2.div",                             NONE,          "vv:v") \
  X(F64X2_MIN,                           0x4F4, "f64x2.min",                             NONE,          "vv:v") \
  X(F64X2_MAX,                           0x4F5, "f64x2.max",                             NONE,          "vv:v") \
  X(F64X2_PMIN,                          0x4F6, "f64x2.pmin",                            NONE,          "vv:v") \
  X(F64X2_PMAX,                          0x4F7, "f64x2.pmax",                            NONE,          "vv:v") \
  X(I32X4_TRUNC_SAT_F32X4_S,             0x4F8, "i32x4.trunc_sat_f32x4_s",               NONE,          "v:v") \
  X(I32X4_TRUNC_SAT_F32X4_U,             0x4F9, "i32x4.trunc_sat_f32x4_u",               NONE,          "v:v") \
  X(F32X4_CONVERT_I32X4_S,               0x4FA, "f32x4.convert_i32x4_s",                 NONE,          "v:v") \
  X(F32X4_CONVERT_I32X4_U,               0x4FB, "f32x4.convert_i32x4_u",                 NONE,          "v:v") \
  X(I32X4_TRUNC_SAT_F64X2_S_ZERO,        0x4FC, "i32x4.trunc_sat_f64x2_s_zero",          NONE,          "v:v") \
  X(I32X4_TRUNC_SAT_F64X2_U_ZERO,        0x4FD, "i32x4.trunc_sat_f64x2_u_zero",          NONE,          "v:v") \
  X(F64X2_CONVERT_LOW_I32X4_S,           0x4FE, "f64x2.convert_low_i32x4_s",             NONE,          "v:v") \
  X(F64X2_CONVERT_LOW_I32X4_U,           0x4FF, "f64x2.convert_low_i32x4_u",             NONE,          "v:v") \
  X(I8X16_RELAXED_SWIZZLE,               0x500, "i8x16.relaxed_swizzle",                 NONE,          "vv:v") \
  X(I32X4_RELAXED_TRUNC_F32X4_S,         0x501, "i32x4.relaxed_trunc_f32x4_s",           NONE,          "v:v") \
  X(I32X4_RELAXED_TRUNC_F32X4_U,         0x502, "i32x4.relaxed_trunc_f32x4_u",           NONE,          "v:v") \
  X(I32X4_RELAXED_TRUNC_F64X2_S_ZERO,    0x503, "i32x4.relaxed_trunc_f64x2_s_zero",      NONE,          "v:v") \
  X(I32X4_RELAXED_TRUNC_F64X2_U_ZERO,    0x504, "i32x4.relaxed_trunc_f64x2_u_zero",      NONE,          "v:v") \
  X(F32X4_RELAXED_MADD,                  0x505, "f32x4.relaxed_madd",                    NONE,          "vvv:v") \
  X(F32X4_RELAXED_NMADD,                 0x506, "f32x4.relaxed_nmadd",                   NONE,          "vvv:v") \
  X(F64X2_RELAXED_MADD,                  0x507, "f64x2.relaxed_madd",                    NONE,          "vvv:v") \
  X(F64X2_RELAXED_NMADD,                 0x508, "f64x2.relaxed_nmadd",                   NONE,          "vvv:v") \
  X(I8X16_RELAXED_LANESELECT,            0x509, "i8x16.relaxed_laneselect",              NONE,          "vvv:v") \
  X(I16X8_RELAXED_LANESELECT,            0x50A, "i16x8.relaxed_laneselect",              NONE,          "vvv:v") \
  X(I32X4_RELAXED_LANESELECT,            0x50B, "i32x4.relaxed_laneselect",              NONE,          "vvv:v") \
  X(I64X2_RELAXED_LANESELECT,            0x50C, "i64x2.relaxed_laneselect",              NONE,          "vvv:v") \
  X(F32X4_RELAXED_MIN,                   0x50D, "f32x4.relaxed_min",                     NONE,          "vv:v") \
  X(F32X4_RELAXED_MAX,                   0x50E, "f32x4.relaxed_max",                     NONE,          "vv:v") \
  X(F64X2_RELAXED_MIN,                   0x50F, "f64x2.relaxed_min",                     NONE,          "vv:v") \
  X(F64X2_RELAXED_MAX,                   0x510, "f64x2.relaxed_max",                     NONE,          "vv:v") \
  X(I16X8_RELAXED_Q15MULR_S,             0x511, "i16x8.relaxed_q15mulr_s",               NONE,          "vv:v") \
  X(I16X8_RELAXED_DOT_I8X16_I7X16_S,     0x512, "i16x8.relaxed_dot_i8x16_i7x16_s",       NONE,          "vv:v") \
  X(I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S, 0x513, "i32x4.relaxed_dot_i8x16_i7x16_add_s",   NONE,          "vvv:v")

typedef enum weft_op {
#define WEFT_OP_ENUM(id, code, text, imm, sig) WEFT_OP_##id = code,
  WEFT_OPCODE_LIST(WEFT_OP_ENUM)
#undef WEFT_OP_ENUM
  WEFT_OP_LIMIT = 0x600
} weft_op;

typedef enum weft_imm_kind {
  WEFT_IMM_NONE, WEFT_IMM_BLOCK, WEFT_IMM_LABEL, WEFT_IMM_BR_TABLE, WEFT_IMM_FUNC,
  WEFT_IMM_CALL_INDIRECT, WEFT_IMM_TYPE, WEFT_IMM_TYPE_TYPE, WEFT_IMM_TYPE_FIELD, WEFT_IMM_TYPE_N,
  WEFT_IMM_TYPE_DATA, WEFT_IMM_TYPE_ELEM, WEFT_IMM_SELECT_T, WEFT_IMM_TRY_TABLE, WEFT_IMM_LOCAL,
  WEFT_IMM_GLOBAL, WEFT_IMM_TABLE, WEFT_IMM_MEM, WEFT_IMM_TAG, WEFT_IMM_DATA, WEFT_IMM_ELEM,
  WEFT_IMM_MEMARG, WEFT_IMM_MEMARG_LANE, WEFT_IMM_MEM_DATA, WEFT_IMM_MEM_MEM, WEFT_IMM_TABLE_ELEM,
  WEFT_IMM_TABLE_TABLE, WEFT_IMM_I32, WEFT_IMM_I64, WEFT_IMM_F32, WEFT_IMM_F64, WEFT_IMM_V128,
  WEFT_IMM_HEAPTYPE, WEFT_IMM_REFTYPE, WEFT_IMM_BR_ON_CAST, WEFT_IMM_LANE, WEFT_IMM_SHUFFLE,
  WEFT_IMM_RESUME, WEFT_IMM_RESUME_THROW, WEFT_IMM_SWITCH
} weft_imm_kind;

/* Binary prefix bytes. */
#define WEFT_PREFIX_GC 0xFB
#define WEFT_PREFIX_MISC 0xFC
#define WEFT_PREFIX_SIMD 0xFD

#endif /* WEFT_OPCODES_H */
