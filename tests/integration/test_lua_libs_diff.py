"""Differential tests: the struct and cmsgpack Lua libraries (issue 13), Keel's
core/script/lua_struct.c and lua_cmsgpack.c vs redis-server 7.0's embedded ones.

Each case is one Lua expression. The same chunk — a small serializer (every
string shown as hex, numbers with 17 digits, tables with sorted keys) around
`pcall(function() return EXPR end)` — runs in redis-server as
`EVAL chunk 0` and in build/tests/unit/lua_run (a plain Lua 5.1 state with
Keel's libraries); the two returned strings must be identical, errors
(their message texts) included.
"""

import os
import subprocess

import pytest

import harness

PRELUDE = r"""
local function hex(s) return (string.gsub(s, '.', function(c)
  return string.format('%02x', string.byte(c)) end)) end
local one
one = function(v)
  local t = type(v)
  if t == 'string' then return 's:' .. hex(v)
  elseif t == 'number' then return 'n:' .. string.format('%.17g', v)
  elseif t == 'table' then
    local ks = {}
    for k in pairs(v) do ks[#ks + 1] = k end
    table.sort(ks, function(a, b) return one(a) < one(b) end)
    local out = {}
    for _, k in ipairs(ks) do out[#out + 1] = one(k) .. '=' .. one(v[k]) end
    return '{' .. table.concat(out, ',') .. '}'
  else return tostring(v) end
end
local function show(...)
  local out = {'#' .. select('#', ...)}
  for i = 1, select('#', ...) do out[#out + 1] = one((select(i, ...))) end
  return table.concat(out, ' ')
end
local function nest(n, leaf) local t = leaf for i = 1, n do t = {t} end return t end
local function seq(n) local t = {} for i = 1, n do t[i] = i end return t end
local function head(s, n) return string.sub(s, 1, n) .. '|' .. #s end
"""

STRUCT = {
    # ---------------------------------------------------------------- pack
    "pack_int_orders": "struct.pack('>i', 1), struct.pack('<i', 1), struct.pack('i', -2)",
    "pack_all_ints": "struct.pack('>bBhHlLT', -1, 255, -2, 65535, -3, 4294967295, 7)",
    "pack_sized_ints": "struct.pack('>I3<i5>I1I2', 0x123456, -2, 300, 70000)",
    "pack_wide_ints": "struct.pack('<i16', -1), struct.pack('>I9', 258), struct.pack('i0', 5)",
    "pack_floats": "struct.pack('>d<f>f', 1.5, -2.25, 0.1)",
    "pack_float_specials": "struct.pack('>d>f>d', 1/0, -1/0, 1e300)",
    "pack_int_from_float": "struct.pack('>i>i>h>B', 1.9, -1.9, 70000, 256)",
    "pack_int_big": "struct.pack('>L>l>I8', 2^32 + 5, -2^40, 2^63 + 2^12)",
    "pack_int_huge": "struct.pack('>L', 2^64), struct.pack('>L', 1e30), struct.pack('>l', -1e30)",
    "pack_int_inf": "struct.pack('>L', 1/0), struct.pack('>l', -1/0)",
    "pack_int_nan": "struct.pack('>L', 0/0), struct.pack('>l', -(0/0))",
    "pack_number_strings": "struct.pack('>i', '12'), struct.pack('c', 5), struct.pack('s', 1.5)",
    "pack_align": "struct.pack('!4 b i', 1, 2), struct.pack('!8 b d', 1, 2), struct.pack('!2 b i', 1, 2)",
    "pack_align_default": "struct.pack('! b d b h', 1, 2, 3, 4), struct.pack('b d', 1, 2)",
    "pack_align_odd_size": "struct.pack('!4 b i3 b I3', 1, 2, 3, 4)",
    "pack_align_c_x": "struct.pack('!4 b c2 i x b', 1, 'ab', 2, 3)",
    "pack_padding": "struct.pack('x b x x', 1), struct.pack('>xxI2', 1)",
    "pack_chars": "struct.pack('c5', 'hello world'), struct.pack('c0', 'whole'), struct.pack('c0', '')",
    "pack_zstring": "struct.pack('s', 'abc'), struct.pack('s', 'a\\0b'), struct.pack('s s', '', 'x')",
    "pack_spaces_endian": "struct.pack(' > h < h ', 1, 1)",
    "pack_empty_format": "struct.pack('')",
    "pack_err_short": "struct.pack('c3', 'ab')",
    "pack_err_short_later": "struct.pack('b c4 b', 1, 'abc', 2)",
    "pack_err_option": "struct.pack('i z', 1)",
    "pack_err_option_digit": "struct.pack('x5')",
    "pack_err_big_int": "struct.pack('i33', 1)",
    "pack_err_overflow": "struct.pack('i99999999999', 1)",
    "pack_err_c_overflow": "struct.pack('c2147483648', 'a')",
    "pack_err_align": "struct.pack('!3 i', 1)",
    "pack_err_align_zero": "struct.pack('!0')",
    "pack_err_missing_arg": "struct.pack('i i', 1)",
    "pack_err_wrong_type": "struct.pack('i', 'x')",
    "pack_err_no_format": "struct.pack()",
    "pack_err_table_format": "struct.pack({})",
    "pack_err_string_type": "struct.pack('s', {})",
    # -------------------------------------------------------------- unpack
    "unpack_ints": "struct.unpack('>i<i', '\\0\\0\\0\\1\\1\\0\\0\\0')",
    "unpack_signs": "struct.unpack('>bBhH', '\\255\\255\\255\\255\\255\\255')",
    "unpack_sized": "struct.unpack('>i3>I3<i3', '\\255\\255\\254\\255\\255\\254\\1\\0\\128')",
    "unpack_wide": "struct.unpack('>I16', string.rep('\\255', 16)), struct.unpack('<i9', string.rep('\\255', 9))",
    "unpack_wide_signed": "struct.unpack('>i9', '\\0' .. string.rep('\\255', 8)), struct.unpack('>i12', string.rep('\\0', 11) .. '\\128')",
    "unpack_zero_width": "struct.unpack('i0I0', '')",
    "unpack_long_T": "struct.unpack('<lLT', string.rep('\\255', 24))",
    "unpack_floats": "struct.unpack('>f<d', struct.pack('>f<d', 1.5, -0.1))",
    "unpack_float_nan": "struct.unpack('>f', '\\127\\192\\0\\0') ~= struct.unpack('>f', '\\127\\192\\0\\0')",
    "unpack_offset": "struct.unpack('c3', 'abcdef', 2), struct.unpack('b', 'ab', 2)",
    "unpack_next_pos": "struct.unpack('', 'abc', 4), struct.unpack('', 'abc')",
    "unpack_next_pos_odd": "struct.unpack('', 'abcd', -1), struct.unpack('', 'abcd', 100)",
    "unpack_c0": "struct.unpack('b c0 b', '\\3abcd!')",
    "unpack_c0_short": "struct.unpack('B c0', '\\10abc')",
    "unpack_c0_no_size": "struct.unpack('c0', 'abc')",
    "unpack_c0_numeric_string": "struct.unpack('c1 c0', '3abcd')",
    "unpack_c0_not_number": "struct.unpack('c1 c0', 'xabcd')",
    "unpack_zstrings": "struct.unpack('s s', 'ab\\0\\0cd')",
    "unpack_err_unfinished": "struct.unpack('s', 'abc')",
    "unpack_err_short": "struct.unpack('i', 'ab')",
    "unpack_err_short_x": "struct.unpack('x', '')",
    "unpack_err_offset_zero": "struct.unpack('b', 'abcd', 0)",
    "unpack_err_offset_past": "struct.unpack('b', 'abcd', 6)",
    "unpack_err_offset_end": "struct.unpack('b', 'abcd', 5)",
    "unpack_err_offset_negative": "struct.unpack('b', 'abcd', -1)",
    "unpack_err_option": "struct.unpack('b z', 'ab')",
    "unpack_err_big_int": "struct.unpack('I40', string.rep('a', 40))",
    "unpack_align": "struct.unpack('!4 b i', '\\1\\0\\0\\0\\2\\0\\0\\0')",
    "unpack_align_short": "struct.unpack('!4 b i', '\\1\\0\\0\\0\\2\\0\\0')",
    "unpack_err_no_data": "struct.unpack('b')",
    "unpack_many": "select('#', struct.unpack(string.rep('b', 300), string.rep('\\1', 300)))",
    "unpack_too_many": "struct.unpack(string.rep('b', 9000), string.rep('\\1', 9000))",
    "pack_T_negative": "struct.pack('<T', -1), struct.pack('>i32', -1), struct.pack('<I32', 2^40)",
    "pack_high_byte_option": "struct.pack('\\200', 1)",
    "pack_big_align": "struct.pack('!16 b d', 1, 2), struct.pack('!1024 b i', 1, 2), struct.pack('<!4 b >h', 1, 2)",
    "unpack_wide_32": "struct.unpack('<I32', string.rep('\\255', 32)), struct.unpack('>i32', string.rep('\\255', 32))",
    "unpack_c0_float_size": "struct.unpack('d c0', struct.pack('d', 2.7) .. 'abc')",
    "unpack_c0_negative_size": "struct.unpack('b c0', '\\255abc')",
    "unpack_float_offset": "struct.unpack('b', 'abc', 1.9), struct.unpack('b', 'abc', 2.5)",
    "unpack_err_high_byte_option": "struct.unpack('\\200', 'a')",
    "unpack_err_offset_type": "struct.unpack('b', 'abc', 'x')",
    "size_high_byte_option": "struct.size('\\200')",
    "size_big_align": "struct.size('!16 b d'), struct.size('!2 b d b')",
    "unpack_results_limit": "select('#', struct.unpack(string.rep('b', 7997), string.rep('\\1', 7997)))",
    "unpack_results_limit_offset": "struct.unpack(string.rep('b', 7997), string.rep('\\1', 7997), 1)",
    "pack_float_overflow": "struct.pack('>f>f', 1e300, -1e39)",
    # ---------------------------------------------------------------- size
    "size_all": "struct.size('>bhilTfd'), struct.size('!8 b d'), struct.size('!b h i d c3 x')",
    "size_chars": "struct.size('c5'), struct.size(''), struct.size('i7 i32')",
    "size_unknown_letters": "struct.size('z'), struct.size('b y 9 b')",
    "size_err_s": "struct.size('b s')",
    "size_err_c0": "struct.size('c0')",
    "size_err_align": "struct.size('!3')",
    "size_err_big_int": "struct.size('i33')",
    "size_err_option": "struct.size('b #')",
    "size_err_no_format": "struct.size()",
}

CMSGPACK = {
    # ---------------------------------------------------------- pack scalars
    "pack_nil_bool": "cmsgpack.pack(nil), cmsgpack.pack(true), cmsgpack.pack(false)",
    "pack_pos_ints": "cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536)",
    "pack_pos_ints_big": "cmsgpack.pack(2^32 - 1, 2^32, 2^53, 2^53 + 2, 2^62)",
    "pack_int64_edges": "cmsgpack.pack(2^63), cmsgpack.pack(-2^63), cmsgpack.pack(2^64), cmsgpack.pack(-2^64)",
    "pack_neg_ints": "cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769)",
    "pack_neg_ints_big": "cmsgpack.pack(-2^31, -2^31 - 1, -2^40, -2^53)",
    "pack_floats": "cmsgpack.pack(1.5, 0.1, -2.75, 1e-3, 3.14159)",
    "pack_float_edges": "cmsgpack.pack(3.4028234663852886e38, 3.5e38, 1e39, 2^100 + 0.5, 1e-45, 1e-320)",
    "pack_float_specials": "cmsgpack.pack(1/0), cmsgpack.pack(-1/0), cmsgpack.pack(-0.0)",
    "pack_nan": "cmsgpack.pack(0/0), cmsgpack.pack(-(0/0))",
    "pack_strings": "cmsgpack.pack(''), cmsgpack.pack('a'), cmsgpack.pack(string.rep('x', 31))",
    "pack_str8": "head(cmsgpack.pack(string.rep('x', 32)), 3), head(cmsgpack.pack(string.rep('x', 255)), 3)",
    "pack_str16": "head(cmsgpack.pack(string.rep('x', 256)), 4), head(cmsgpack.pack(string.rep('x', 65535)), 4)",
    "pack_str32": "head(cmsgpack.pack(string.rep('x', 65536)), 6)",
    "pack_binary_string": "cmsgpack.pack('\\0\\255\\128abc')",
    "pack_function": "cmsgpack.pack(tostring), cmsgpack.pack(function() end)",
    "pack_multi": "cmsgpack.pack(1, 'a', nil, true, {2})",
    "pack_err_none": "cmsgpack.pack()",
    "pack_err_too_many": "cmsgpack.pack(unpack(seq(4001)))",
    "pack_many_args": "head(cmsgpack.pack(unpack(seq(4000))), 4)",
    # ---------------------------------------------------------- pack tables
    "pack_empty_table": "cmsgpack.pack({})",
    "pack_array": "cmsgpack.pack({1, 2, 3}), cmsgpack.pack({'a', {}, false})",
    "pack_array_15_16": "cmsgpack.pack(seq(15)), head(cmsgpack.pack(seq(16)), 4)",
    "pack_array_big": "head(cmsgpack.pack(seq(65535)), 5), head(cmsgpack.pack(seq(65536)), 7)",
    "pack_hole_is_map": "cmsgpack.pack({1, nil, 3}), cmsgpack.pack({[1] = 1, [2] = 2, [4] = 4})",
    "pack_key_kinds": "cmsgpack.pack({[0] = 1}), cmsgpack.pack({[-1] = 1}), cmsgpack.pack({[1.5] = 1})",
    "pack_string_keys": "cmsgpack.pack({['1'] = 1}), cmsgpack.pack({a = 1})",
    "pack_big_index": "cmsgpack.pack({[2^31] = 1}), cmsgpack.pack({[2^40] = true})",
    "pack_map_order": "cmsgpack.pack({a = 1, b = 2, c = 3, [10] = 'x', [true] = false})",
    "pack_map_16": "cmsgpack.pack({a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16})",
    "pack_map_order_many": "(function() local t = {} for i = 1, 40 do t['k' .. i] = i t[i * 7.5] = -i end"
                           " return cmsgpack.pack(t) end)()",
    "pack_map_table_key": "cmsgpack.pack({[{1}] = 2})",
    "pack_mixed": "cmsgpack.pack({1, 2, x = 'y'})",
    "pack_nesting_15": "cmsgpack.pack(nest(15, 7))",
    "pack_nesting_16": "cmsgpack.pack(nest(16, 7)), cmsgpack.pack(nest(17, 7)), cmsgpack.pack(nest(20, {}))",
    "pack_nesting_map": "cmsgpack.pack({a = nest(16, 1)})",
    "pack_cycle": "(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()",
    "pack_cycle_map": "(function() local t = {} t.self = t return cmsgpack.pack(t) end)()",
    "pack_metatable_ignored": "cmsgpack.pack(setmetatable({}, {__index = function() return 1 end}))",
    "pack_holes_after_delete": "(function() local t = {1, 2, 3} t[2] = nil return cmsgpack.pack(t) end)()",
    "pack_array_then_hash": "(function() local t = {1, 2, 3} t.x = 1 t.x = nil return cmsgpack.pack(t) end)()",
    "pack_numeric_strings": "cmsgpack.pack('12', '1.5', {['2'] = '3'})",
    "pack_unrepresentable": "cmsgpack.pack(2^53 + 1, 2^63 - 1024, -2^63 - 2048)",
    "pack_float_keys": "cmsgpack.pack({[1e300] = 1, [0.5] = 2})",
    "pack_map_mixed_keys": "cmsgpack.pack({[1] = 'a', [3] = 'c', x = {y = {z = 1}}, [false] = 0, [-2] = 2, [2^40] = 1})",
    "unpack_err_fixstr_short": "cmsgpack.unpack('\\163ab')",
    "unpack_err_deep_maps": "cmsgpack.unpack(string.rep('\\129\\1', 5000) .. '\\1')",
    "unpack_float_key": "cmsgpack.unpack('\\129\\202\\63\\192\\0\\0\\1')",
    "unpack_table_key": "cmsgpack.unpack('\\129\\145\\1\\2')",
    "unpack_one_error_later": "cmsgpack.unpack_one('\\1\\193', 0), cmsgpack.unpack_one('\\1\\193', 1)",
    "unpack_limit_at_end": "cmsgpack.unpack_limit('\\1\\2', 5, 2)",
    "unpack_values_limit": "(function() local out = {} for n = 7995, 8000 do"
                           " out[#out + 1] = tostring(pcall(cmsgpack.unpack, string.rep('\\1', n)))"
                           " end return table.concat(out, ',') end)()",
    "unpack_depth_limit": "(function() local out = {} for d = 3990, 4001 do"
                          " out[#out + 1] = tostring(pcall(cmsgpack.unpack, string.rep('\\145', d) .. '\\1'))"
                          " end return table.concat(out, ',') end)()",
    "unpack_map_depth_limit": "(function() local out = {} for d = 3990, 4001 do"
                              " out[#out + 1] = tostring(pcall(cmsgpack.unpack, string.rep('\\129\\1', d) .. '\\1'))"
                              " end return table.concat(out, ',') end)()",
    "unpack_key_depth_limit": "(function() local out = {} for d = 7990, 8001 do"
                              " out[#out + 1] = tostring(pcall(cmsgpack.unpack, string.rep('\\129', d) .. string.rep('\\1', d + 1)))"
                              " end return table.concat(out, ',') end)()",
    # ------------------------------------------------------------- unpack
    "unpack_scalars": "cmsgpack.unpack('\\192\\194\\195\\0\\127\\255\\224')",
    "unpack_uints": "cmsgpack.unpack('\\204\\255\\205\\1\\0\\206\\255\\255\\255\\255')",
    "unpack_uint64": "cmsgpack.unpack('\\207\\0\\0\\0\\1\\0\\0\\0\\0\\207\\255\\255\\255\\255\\255\\255\\255\\255')",
    "unpack_uint64_top": "cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\0')",
    "unpack_ints": "cmsgpack.unpack('\\208\\255\\208\\1\\209\\128\\0\\210\\128\\0\\0\\0')",
    "unpack_int64": "cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\254\\211\\128\\0\\0\\0\\0\\0\\0\\0')",
    "unpack_floats": "cmsgpack.unpack('\\202\\63\\192\\0\\0\\203\\63\\185\\153\\153\\153\\153\\153\\154')",
    "unpack_strings": "cmsgpack.unpack('\\163abc\\217\\3abc\\218\\0\\2ab\\219\\0\\0\\0\\1z\\160')",
    "unpack_arrays": "cmsgpack.unpack('\\146\\1\\2\\220\\0\\1\\3\\221\\0\\0\\0\\2\\192\\4\\144')",
    "unpack_maps": "cmsgpack.unpack('\\129\\161a\\1\\222\\0\\1\\2\\3\\223\\0\\0\\0\\1\\145\\1\\2\\128')",
    "unpack_nil_in_array": "cmsgpack.unpack('\\147\\1\\192\\3')",
    "unpack_empty": "cmsgpack.unpack('')",
    "unpack_number_arg": "cmsgpack.unpack(123)",
    "unpack_round_trip": "cmsgpack.unpack(cmsgpack.pack({1, 2, {a = {true, false}}, 'x', -5, 1.25, 2^40}))",
    "unpack_big_str": "#cmsgpack.unpack(cmsgpack.pack(string.rep('q', 70000)))",
    "unpack_err_c1": "cmsgpack.unpack('\\193')",
    "unpack_err_bin": "cmsgpack.unpack('\\196\\1a')",
    "unpack_err_ext": "cmsgpack.unpack('\\199\\1\\1a'), 1",
    "unpack_err_fixext": "cmsgpack.unpack('\\212\\1\\1')",
    "unpack_err_nested_bad": "cmsgpack.unpack('\\146\\1\\193')",
    "unpack_err_missing": "cmsgpack.unpack('\\217\\5ab')",
    "unpack_err_missing_array": "cmsgpack.unpack('\\146\\1')",
    "unpack_err_missing_int": "cmsgpack.unpack('\\205\\1')",
    "unpack_err_missing_str32": "cmsgpack.unpack('\\219\\255\\255\\255\\255ab')",
    "unpack_err_huge_array": "cmsgpack.unpack('\\221\\255\\255\\255\\255\\1')",
    "unpack_err_nil_key": "cmsgpack.unpack('\\129\\192\\1')",
    "unpack_err_nan_key": "cmsgpack.unpack('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1')",
    "unpack_err_no_arg": "cmsgpack.unpack()",
    "unpack_err_table_arg": "cmsgpack.unpack({})",
    "unpack_deep": "select('#', cmsgpack.unpack(string.rep('\\145', 3000) .. '\\1'))",
    "unpack_err_too_deep": "cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')",
    "unpack_err_too_many": "cmsgpack.unpack(string.rep('\\1', 9000))",
    "unpack_many": "select('#', cmsgpack.unpack(string.rep('\\1', 7000)))",
    # ----------------------------------------------- unpack_one / unpack_limit
    "unpack_one": "cmsgpack.unpack_one('\\1\\2\\3'), cmsgpack.unpack_one('\\1\\2\\3', 1)",
    "unpack_one_last": "cmsgpack.unpack_one('\\1\\2\\3', 2), cmsgpack.unpack_one('\\1\\2\\3', 3)",
    "unpack_one_empty": "cmsgpack.unpack_one('')",
    "unpack_one_err_past": "cmsgpack.unpack_one('\\1\\2\\3', 4)",
    "unpack_one_err_negative": "cmsgpack.unpack_one('\\1\\2\\3', -1)",
    "unpack_one_err_bad": "cmsgpack.unpack_one('\\193\\1')",
    "unpack_one_float_offset": "cmsgpack.unpack_one('\\1\\2\\3', 1.9)",
    "unpack_one_huge_offset": "cmsgpack.unpack_one('\\1\\2\\3', 2^32 + 1)",
    "unpack_one_extra_args": "cmsgpack.unpack_one('\\1\\2', 0, 'ignored', {})",
    "unpack_limit": "cmsgpack.unpack_limit('\\1\\2\\3\\4', 2), cmsgpack.unpack_limit('\\1\\2\\3\\4', 2, 2)",
    "unpack_limit_over": "cmsgpack.unpack_limit('\\1\\2\\3\\4', 10, 1)",
    "unpack_limit_zero": "cmsgpack.unpack_limit('\\1\\2\\3', 0), cmsgpack.unpack_limit('\\1\\2\\3', 0, 1)",
    "unpack_limit_err_negative": "cmsgpack.unpack_limit('\\1\\2\\3', -1)",
    "unpack_limit_err_negative_both": "cmsgpack.unpack_limit('\\1\\2\\3', -5, -7)",
    "unpack_limit_err_type": "cmsgpack.unpack_limit('\\1\\2\\3', 'x')",
    "unpack_limit_err_missing": "cmsgpack.unpack_limit('\\1\\2\\3')",
    "unpack_limit_err_past": "cmsgpack.unpack_limit('\\1\\2\\3', 1, 9)",
    "unpack_limit_stream": "cmsgpack.unpack_limit(cmsgpack.pack({1}, 'ab', {x = 1}), 2, 0)",
    # ------------------------------------------------------------- metadata
    "metadata": "cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION",
    "functions": "type(cmsgpack.pack), type(cmsgpack.unpack), type(cmsgpack.unpack_one), type(cmsgpack.unpack_limit), type(struct.pack), type(struct.unpack), type(struct.size)",
}

# cjson is Debian's lua5.1-cjson (2.1.0) in Keel, linked into lua_run when
# installed; redis-server embeds its own patched copy. Module settings are
# only read (a setter would change the oracle's state for later cases).
CJSON = {
    "encode_empty": "cjson.encode({}), cjson.encode(''), cjson.encode(cjson.null)",
    "encode_array": "cjson.encode({1, 2, 3}), cjson.encode({'a', {true, false}})",
    "encode_object": "cjson.encode({a = 1}), cjson.encode({a = {b = {c = 'd'}}})",
    "encode_integers": "cjson.encode(0), cjson.encode(-1), cjson.encode(2^31), cjson.encode(2^53)",
    "encode_floats": "cjson.encode(1.5), cjson.encode(0.1), cjson.encode(-0.0), cjson.encode(1/3)",
    "encode_float_exponents": "cjson.encode(1e100), cjson.encode(1e-7), cjson.encode(123456789012345678)",
    "encode_escapes": "cjson.encode('a\"b\\\\c/d\\n\\r\\t\\b\\f')",
    "encode_controls": "cjson.encode('\\0\\1\\31\\127')",
    "encode_high_bytes": "cjson.encode('\\200\\255\\195\\169')",
    "encode_sparse_ok": "cjson.encode({[1] = 1, [3] = 3}), cjson.encode({[1] = 'a', [2] = 'b', [4] = 'd'})",
    "encode_sparse_err": "cjson.encode({[1] = 1, [20] = 2})",
    "encode_mixed_keys": "cjson.encode({[1] = 1, a = 2})",
    "encode_number_key": "cjson.encode({[1.5] = 1})",
    "encode_bool_key": "cjson.encode({[true] = 1})",
    "encode_nan": "cjson.encode(0/0)",
    "encode_inf": "cjson.encode(1/0)",
    "encode_function": "cjson.encode(function() end)",
    "encode_depth_ok": "#cjson.encode(nest(900, 1))",
    "encode_depth_err": "cjson.encode(nest(1100, 1))",
    "encode_cycle": "(function() local t = {} t[1] = t return cjson.encode(t) end)()",
    "encode_no_arg": "cjson.encode()",
    "encode_two_args": "cjson.encode(1, 2)",
    "decode_object": "cjson.decode('{\"a\":1,\"b\":[true,false,null],\"c\":{}}')",
    "decode_null": "cjson.decode('null') == cjson.null, cjson.decode('[null]')[1] == cjson.null",
    "decode_numbers": "cjson.decode('[0, -0, 1.5, 1e3, -2E-2, 12345678901234567890]')",
    "decode_number_edges": "cjson.decode('[1e400, -1e400, 4.9e-324]')",
    "decode_hex_number": "cjson.decode('0x10')",
    "decode_nan_token": "cjson.decode('NaN')",
    "decode_inf_token": "cjson.decode('Infinity')",
    "decode_leading_zero": "cjson.decode('01')",
    "decode_plus": "cjson.decode('+1')",
    "decode_strings": "cjson.decode('\"a\\\\n\\\\u0041\\\\u00e9\\\\u4e2d\\\\ud83d\\\\ude00\"')",
    "decode_bad_escape": "cjson.decode('\"\\\\q\"')",
    "decode_bad_surrogate": "cjson.decode('\"\\\\ud800\"')",
    "decode_raw_control": "cjson.decode('\"a\\1b\"')",
    "decode_err_empty": "cjson.decode('')",
    "decode_err_token": "cjson.decode('{\"a\":}')",
    "decode_err_trailing": "cjson.decode('[1] x')",
    "decode_err_unclosed": "cjson.decode('[1, 2')",
    "decode_err_comma": "cjson.decode('[1,]')",
    "decode_err_key": "cjson.decode('{1:2}')",
    "decode_depth_ok": "type(cjson.decode(string.rep('[', 900) .. string.rep(']', 900)))",
    "decode_depth_err": "cjson.decode(string.rep('[', 1100) .. string.rep(']', 1100))",
    "decode_whitespace": "cjson.decode(' \\t\\r\\n[ 1 , 2 ] \\n')",
    "decode_dup_keys": "cjson.decode('{\"a\":1,\"a\":2}')",
    "decode_no_arg": "cjson.decode()",
    "decode_number_arg": "cjson.decode(12)",
    "round_trip": "cjson.decode(cjson.encode({1, 'x', {y = false}, 2.5}))",
    "settings": "cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer()",
    "settings_sparse": "cjson.encode_sparse_array()",
    "settings_invalid_numbers": "cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()",
    "metadata": "cjson._NAME, cjson._VERSION",
    "functions": "type(cjson.new), type(cjson.array_mt), type(cjson.empty_array), type(cjson.encode_empty_table_as_object)",
    "encode_null_inside": "cjson.encode({cjson.null, {a = cjson.null}})",
    "encode_big_string": "#cjson.encode(string.rep('\\1', 100000))",
    "encode_big_array": "#cjson.encode(seq(20000))",
    "encode_precision": "cjson.encode(3.14159265358979), cjson.encode(2^63), cjson.encode(-2^63)",
    "decode_big_ints": "cjson.decode('[9007199254740993, -9223372036854775809, 1.7976931348623157e308]')",
    "decode_utf8_raw": "cjson.decode('\"\\195\\169\\255\"')",
    "decode_escaped_slash": "cjson.decode('\"\\\\/\\\\\\\\\"')",
}


def chunk(expr):
    return (PRELUDE + "local ok, r = pcall(function() return show(" + expr + ") end)\n"
            "if ok then return r else return 'E:' .. tostring(r) end\n")


def lua_run_bin():
    env = os.environ.get("LUA_RUN_BIN")
    if env:
        return env
    cands = []
    try:
        cands.append(os.path.join(os.path.dirname(harness.keel_bin()), "tests", "unit", "lua_run"))
    except RuntimeError:
        pass
    cands += [os.path.join(harness.REPO, b, "tests", "unit", "lua_run")
              for b in ("build-test", "build")]
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    raise RuntimeError("no lua_run helper: build it (tests/unit/lua_run) or set LUA_RUN_BIN")


def run_keel_libs(code):
    p = subprocess.run([lua_run_bin()], input=code.encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, "lua_run failed: %s" % p.stderr.decode(errors="replace")
    assert b"runtime error:" not in p.stderr and b"Sanitizer" not in p.stderr, p.stderr.decode()
    return bytes.fromhex(p.stdout.decode().strip())


@pytest.fixture(scope="module")
def oracle_conn(oracle):
    c = harness.RawConn(oracle.port)
    yield c
    c.close()


def run_redis(conn, code):
    reply = conn.call("EVAL", code, "0")
    assert reply.startswith(b"$"), "EVAL failed in redis-server: %r" % reply[:300]
    header, _, rest = reply.partition(b"\r\n")
    return rest[:int(header[1:])]


def check(oracle_conn, expr):
    code = chunk(expr)
    want = run_redis(oracle_conn, code)
    got = run_keel_libs(code)
    assert got == want, "%s\n keel:  %r\n redis: %r" % (expr, got[:2000], want[:2000])


@pytest.mark.parametrize("name", sorted(STRUCT))
def test_struct(oracle_conn, name):
    check(oracle_conn, STRUCT[name])


@pytest.mark.parametrize("name", sorted(CMSGPACK))
def test_cmsgpack(oracle_conn, name):
    check(oracle_conn, CMSGPACK[name])


@pytest.mark.parametrize("name", sorted(CJSON))
def test_cjson(oracle_conn, name):
    if run_keel_libs(chunk("type(cjson)")) != b"#1 s:" + b"table".hex().encode():
        pytest.skip("lua_run built without Debian's lua5.1-cjson")
    check(oracle_conn, CJSON[name])
