;; The cube-cbc encoding kernels (main/hosting/encoding.ts) in WebAssembly, byte-identical to
;; the JavaScript reference in main/hosting/encoding-js.ts: v2 (the default: the chain's direction
;; alternates per round) for one block or two blocks interleaved, and v1 (every round forward),
;; kept so chunks encoded before v2 still decode. Assembled with wabt by scripts/build-wasm.mjs
;; into main/hosting/encoding-kernel.ts (base64); a unit test reassembles this file and checks it
;; gives the committed bytes.
;;
;; Memory: words at $w (n little-endian u32, the block zero-padded), keystream at $ks
;; ((rounds + 1) * (n + 1) u32: [0, n) whitening, then per round r an IV and n chain words at
;; (r + 1) * (n + 1)). The caller grows the memory; wasm32 on 64-bit hosts needs no bounds
;; checks (guard pages), so the loops below are plain loads and stores.
;;
;; Field arithmetic in i64: p = 2^32 - 5, so a * b = hi * 2^32 + lo = hi * 5 + lo (mod p). Two
;; folds bring a 64-bit product below 2^32 + 25 < 2p, one conditional subtraction makes it
;; canonical. The cube root x^d, d = (2p - 1) / 3 = 0xAAAAAAA7, uses an addition chain of 31
;; squarings and 6 dependent multiplications (37 on the critical path, against 47 for plain
;; square-and-multiply): x^0xA, x^0xAA, x^0xAAAA, x^0xAAAAAA, x^0xAAAAAAA, then x^0xAAAAAAA7.
;;
;; v2 ("encode", "encode2", "decode"): odd rounds chain from word n - 1 down to 0, so round r + 1
;; starts from the word round r finished with and rounds cannot overlap (docs/protocol.md
;; section 5). "encode2" keeps the honest encoder's throughput: it advances the chains of two
;; independent blocks in one loop ($cbrt2), so the CPU overlaps their multiplications; a cheater
;; re-encoding the blocks of a walk one after the other cannot.
;; v1 ("encodeV1", "decodeV1"): rounds run in pairs as a wavefront ($encodePair): round r + 1
;; needs only word j of round r and its own word j - 1, so it runs one word behind round r: 2
;; rounds cost about the time of 1, for an attacker too. Kept for v1 chunks and the bench.
(module
  (memory (export "memory") 1)

  ;; a * b mod p for a, b < 2^32, canonical result
  (func $mul (param $a i64) (param $b i64) (result i64)
    (local $t i64)
    (local.set $t (i64.mul (local.get $a) (local.get $b)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
                           (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
                           (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t)
            (i64.ge_u (local.get $t) (i64.const 4294967291))))

  ;; r^(2^k) * m mod p, k >= 1: the squarings are written out in the loop so they stay inline
  (func $sqm (param $r i64) (param $k i32) (param $m i64) (result i64)
    (local $t i64)
    (loop $sq
      (local.set $t (i64.mul (local.get $r) (local.get $r)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
                             (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
                             (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $r (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t)
                            (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (br_if $sq (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (call $mul (local.get $r) (local.get $m)))

  ;; x^0xAAAAAAA7 mod p for x < p
  (func $cbrt (export "cbrt") (param $x i64) (result i64)
    (local $x2 i64) (local $x5 i64) (local $x10 i64) (local $x7 i64) (local $t2 i64) (local $t i64)
    (local.set $x2 (call $mul (local.get $x) (local.get $x)))
    (local.set $x5 (call $sqm (local.get $x2) (i32.const 1) (local.get $x)))
    (local.set $x10 (call $mul (local.get $x5) (local.get $x5)))
    (local.set $x7 (call $mul (local.get $x5) (local.get $x2)))
    (local.set $t2 (call $sqm (local.get $x10) (i32.const 4) (local.get $x10)))
    (local.set $t (call $sqm (local.get $t2) (i32.const 8) (local.get $t2)))
    (local.set $t (call $sqm (local.get $t) (i32.const 8) (local.get $t2)))
    (local.set $t (call $sqm (local.get $t) (i32.const 4) (local.get $x10)))
    (call $sqm (local.get $t) (i32.const 4) (local.get $x7)))

  ;; x mod p for x < 3 * 2^32
  (func $red (param $t i64) (result i64)
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
                           (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t)
            (i64.ge_u (local.get $t) (i64.const 4294967291))))

  ;; words[j] ^= ks[j] for j < n (whitening; its own inverse)
  (func $whiten (export "whiten") (param $w i32) (param $ks i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (i32.store (local.get $w) (i32.xor (i32.load (local.get $w)) (i32.load (local.get $ks))))
        (local.set $ks (i32.add (local.get $ks) (i32.const 4)))
        (br_if $l (i32.lt_u (local.tee $w (i32.add (local.get $w) (i32.const 4))) (local.get $end))))))

  ;; one round of the CBC cube-root chain over n words; $k points at the round's IV
  (func $encodeRound (param $w i32) (param $k i32) (param $n i32)
    (local $end i32) (local $x i64) (local $prev i64)
    (local.set $prev (call $red (i64.load32_u (local.get $k))))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (loop $l
      (local.set $k (i32.add (local.get $k) (i32.const 4)))
      (local.set $x (i64.load32_u (local.get $w)))
      (if (i64.ge_u (local.get $x) (i64.const 4294967291))
        (then (local.set $prev (i64.sub (local.get $x) (i64.const 4294967291))))
        (else
          (local.set $prev (call $cbrt (call $red (i64.add (i64.add (local.get $x) (local.get $prev))
                                                             (i64.load32_u (local.get $k))))))
          (i64.store32 (local.get $w) (local.get $prev))))
      (br_if $l (i32.lt_u (local.tee $w (i32.add (local.get $w) (i32.const 4))) (local.get $end)))))

  ;; the cube roots of $a and $b, their two chains interleaved so the CPU overlaps them
  (func $cbrt2 (param $a i64) (param $b i64) (result i64 i64)
    (local $t i64) (local $u i64) (local $i i32)
    (local $a2 i64) (local $b2 i64) (local $a5 i64) (local $b5 i64) (local $a10 i64) (local $b10 i64)
    (local $a7 i64) (local $b7 i64) (local $ta i64) (local $tb i64) (local $sa i64) (local $sb i64)
    (local.set $t (i64.mul (local.get $a) (local.get $a)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $a2 (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $b) (local.get $b)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $b2 (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $t (i64.mul (local.get $a2) (local.get $a2)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $a5 (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $b2) (local.get $b2)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $b5 (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $t (i64.mul (local.get $a5) (local.get $a)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $a5 (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $b5) (local.get $b)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $b5 (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $t (i64.mul (local.get $a5) (local.get $a5)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $a10 (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $b5) (local.get $b5)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $b10 (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $t (i64.mul (local.get $a5) (local.get $a2)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $a7 (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $b5) (local.get $b2)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $b7 (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $sa (local.get $a10)) (local.set $sb (local.get $b10))
    (local.set $i (i32.const 4))
    (loop $sq
      (local.set $t (i64.mul (local.get $sa) (local.get $sa)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (local.set $u (i64.mul (local.get $sb) (local.get $sb)))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
      (br_if $sq (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (local.set $t (i64.mul (local.get $sa) (local.get $a10)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $sb) (local.get $b10)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $ta (local.get $sa)) (local.set $tb (local.get $sb))
    (local.set $i (i32.const 8))
    (loop $sq
      (local.set $t (i64.mul (local.get $sa) (local.get $sa)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (local.set $u (i64.mul (local.get $sb) (local.get $sb)))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
      (br_if $sq (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (local.set $t (i64.mul (local.get $sa) (local.get $ta)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $sb) (local.get $tb)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $i (i32.const 8))
    (loop $sq
      (local.set $t (i64.mul (local.get $sa) (local.get $sa)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (local.set $u (i64.mul (local.get $sb) (local.get $sb)))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
      (br_if $sq (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (local.set $t (i64.mul (local.get $sa) (local.get $ta)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $sb) (local.get $tb)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $i (i32.const 4))
    (loop $sq
      (local.set $t (i64.mul (local.get $sa) (local.get $sa)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (local.set $u (i64.mul (local.get $sb) (local.get $sb)))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
      (br_if $sq (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (local.set $t (i64.mul (local.get $sa) (local.get $a10)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $sb) (local.get $b10)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.set $i (i32.const 4))
    (loop $sq
      (local.set $t (i64.mul (local.get $sa) (local.get $sa)))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
      (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
      (local.set $u (i64.mul (local.get $sb) (local.get $sb)))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
      (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
      (br_if $sq (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (local.set $t (i64.mul (local.get $sa) (local.get $a7)))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $t (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $t) (i64.const 32)) (i64.const 5))))
    (local.set $sa (select (i64.sub (local.get $t) (i64.const 4294967291)) (local.get $t) (i64.ge_u (local.get $t) (i64.const 4294967291))))
    (local.set $u (i64.mul (local.get $sb) (local.get $b7)))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $u (i64.add (i64.and (local.get $u) (i64.const 0xffffffff)) (i64.mul (i64.shr_u (local.get $u) (i64.const 32)) (i64.const 5))))
    (local.set $sb (select (i64.sub (local.get $u) (i64.const 4294967291)) (local.get $u) (i64.ge_u (local.get $u) (i64.const 4294967291))))
    (local.get $sa) (local.get $sb))


  ;; rounds r and r + 1 as a wavefront: round r + 1 handles word j - 1 while round r handles
  ;; word j, so the two dependent chains run side by side ($ka, $kb point at their IVs). Same
  ;; result as two calls of $encodeRound; pass-through words are chosen with select.
  (func $encodePair (param $w i32) (param $ka i32) (param $kb i32) (param $n i32)
    (local $end i32) (local $xa i64) (local $xb i64) (local $pa i64) (local $pb i64) (local $ya i64) (local $yb i64)
    (local.set $pa (call $red (i64.load32_u (local.get $ka))))
    (local.set $pb (call $red (i64.load32_u (local.get $kb))))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    ;; word 0 of round r alone
    (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
    (local.set $xa (i64.load32_u (local.get $w)))
    (if (i64.lt_u (local.get $xa) (i64.const 4294967291))
      (then
        (local.set $pa (call $cbrt (call $red (i64.add (i64.add (local.get $xa) (local.get $pa)) (i64.load32_u (local.get $ka))))))
        (i64.store32 (local.get $w) (local.get $pa)))
      (else (local.set $pa (i64.sub (local.get $xa) (i64.const 4294967291)))))
    (local.set $w (i32.add (local.get $w) (i32.const 4)))
    (block $done
      (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
      (loop $l
        (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
        (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
        (local.set $xa (i64.load32_u (local.get $w)))
        (local.set $xb (i64.load32_u (i32.sub (local.get $w) (i32.const 4))))
        (call $cbrt2
          (call $red (i64.add (i64.add (local.get $xa) (local.get $pa)) (i64.load32_u (local.get $ka))))
          (call $red (i64.add (i64.add (local.get $xb) (local.get $pb)) (i64.load32_u (local.get $kb)))))
        (local.set $yb)
        (local.set $ya)
        (local.set $pa (select (i64.sub (local.get $xa) (i64.const 4294967291)) (local.get $ya)
                               (i64.ge_u (local.get $xa) (i64.const 4294967291))))
        (local.set $pb (select (i64.sub (local.get $xb) (i64.const 4294967291)) (local.get $yb)
                               (i64.ge_u (local.get $xb) (i64.const 4294967291))))
        (i64.store32 (local.get $w) (select (local.get $xa) (local.get $ya) (i64.ge_u (local.get $xa) (i64.const 4294967291))))
        (i64.store32 (i32.sub (local.get $w) (i32.const 4))
                     (select (local.get $xb) (local.get $yb) (i64.ge_u (local.get $xb) (i64.const 4294967291))))
        (br_if $l (i32.lt_u (local.tee $w (i32.add (local.get $w) (i32.const 4))) (local.get $end)))))
    ;; word n - 1 of round r + 1 alone
    (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
    (local.set $w (i32.sub (local.get $w) (i32.const 4)))
    (local.set $xb (i64.load32_u (local.get $w)))
    (if (i64.lt_u (local.get $xb) (i64.const 4294967291))
      (then
        (i64.store32 (local.get $w)
          (call $cbrt (call $red (i64.add (i64.add (local.get $xb) (local.get $pb)) (i64.load32_u (local.get $kb)))))))))

  ;; v1: whitening, then `rounds` rounds (in wavefront pairs, the last one alone if odd); n >= 1
  (func (export "encodeV1") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $stride i32)
    (call $whiten (local.get $w) (local.get $ks) (local.get $n))
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.lt_u (local.get $rounds) (i32.const 2)))
        (local.set $ks (i32.add (local.get $ks) (local.get $stride)))
        (call $encodePair (local.get $w) (local.get $ks) (i32.add (local.get $ks) (local.get $stride)) (local.get $n))
        (local.set $ks (i32.add (local.get $ks) (local.get $stride)))
        (local.set $rounds (i32.sub (local.get $rounds) (i32.const 2)))
        (br $pairs)))
    (if (local.get $rounds)
      (then (call $encodeRound (local.get $w) (i32.add (local.get $ks) (local.get $stride)) (local.get $n)))))

  ;; inverse of one round, walking backwards so word j - 1 still holds this round's output
  (func $decodeRound (param $w i32) (param $k i32) (param $n i32)
    (local $p i32) (local $y i64) (local $prev i64) (local $key i64)
    (local.set $p (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $k (i32.add (local.get $k) (i32.shl (local.get $n) (i32.const 2))))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 4)))
      (local.set $y (i64.load32_u (local.get $p)))
      (if (i64.lt_u (local.get $y) (i64.const 4294967291))
        (then
          (local.set $prev (call $red (i64.load32_u
            (select (i32.sub (local.get $k) (i32.const 4)) (i32.sub (local.get $p) (i32.const 4))
                    (i32.eq (local.get $p) (local.get $w))))))
          (local.set $key (call $red (i64.load32_u (local.get $k))))
          (i64.store32 (local.get $p) (call $red (i64.sub (i64.sub
            (i64.add (call $mul (call $mul (local.get $y) (local.get $y)) (local.get $y)) (i64.const 8589934582))
            (local.get $key)) (local.get $prev))))))
      (local.set $k (i32.sub (local.get $k) (i32.const 4)))
      (br_if $l (i32.gt_u (local.get $p) (local.get $w)))))

  ;; v1: `rounds` inverse rounds, then whitening; n >= 1
  (func (export "decodeV1") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $stride i32) (local $k i32)
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $k (i32.add (local.get $ks) (i32.mul (local.get $stride) (local.get $rounds))))
    (loop $l
      (call $decodeRound (local.get $w) (local.get $k) (local.get $n))
      (br_if $l (i32.gt_u (local.tee $k (i32.sub (local.get $k) (local.get $stride))) (local.get $ks))))
    (call $whiten (local.get $w) (local.get $ks) (local.get $n)))

  ;; ---- v2: the chain's direction alternates per round ----

  ;; one v2 round over n words; $k points at the round's IV; $rev: from word n - 1 down to 0
  (func $round1 (param $w i32) (param $k i32) (param $n i32) (param $rev i32)
    (local $step i32) (local $x i64) (local $prev i64)
    (local.set $prev (call $red (i64.load32_u (local.get $k))))
    (local.set $k (i32.add (local.get $k) (i32.const 4)))
    (local.set $step (i32.const 4))
    (if (local.get $rev)
      (then
        (local.set $w (i32.add (local.get $w) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2))))
        (local.set $k (i32.add (local.get $k) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2))))
        (local.set $step (i32.const -4))))
    (loop $l
      (local.set $x (i64.load32_u (local.get $w)))
      (if (i64.ge_u (local.get $x) (i64.const 4294967291))
        (then (local.set $prev (i64.sub (local.get $x) (i64.const 4294967291))))
        (else
          (local.set $prev (call $cbrt (call $red (i64.add (i64.add (local.get $x) (local.get $prev))
                                                             (i64.load32_u (local.get $k))))))
          (i64.store32 (local.get $w) (local.get $prev))))
      (local.set $w (i32.add (local.get $w) (local.get $step)))
      (local.set $k (i32.add (local.get $k) (local.get $step)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  ;; the same round over two blocks of n words at once ($wa with keys at $ka, $wb with $kb): two
  ;; independent chains, their cube roots interleaved by $cbrt2; pass-through words by select
  (func $round2 (param $wa i32) (param $ka i32) (param $wb i32) (param $kb i32) (param $n i32) (param $rev i32)
    (local $step i32) (local $last i32) (local $xa i64) (local $xb i64) (local $pa i64) (local $pb i64) (local $ya i64) (local $yb i64)
    (local.set $pa (call $red (i64.load32_u (local.get $ka))))
    (local.set $pb (call $red (i64.load32_u (local.get $kb))))
    (local.set $ka (i32.add (local.get $ka) (i32.const 4)))
    (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
    (local.set $step (i32.const 4))
    (if (local.get $rev)
      (then
        (local.set $last (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2)))
        (local.set $wa (i32.add (local.get $wa) (local.get $last)))
        (local.set $ka (i32.add (local.get $ka) (local.get $last)))
        (local.set $wb (i32.add (local.get $wb) (local.get $last)))
        (local.set $kb (i32.add (local.get $kb) (local.get $last)))
        (local.set $step (i32.const -4))))
    (loop $l
      (local.set $xa (i64.load32_u (local.get $wa)))
      (local.set $xb (i64.load32_u (local.get $wb)))
      (call $cbrt2
        (call $red (i64.add (i64.add (local.get $xa) (local.get $pa)) (i64.load32_u (local.get $ka))))
        (call $red (i64.add (i64.add (local.get $xb) (local.get $pb)) (i64.load32_u (local.get $kb)))))
      (local.set $yb)
      (local.set $ya)
      (local.set $pa (select (i64.sub (local.get $xa) (i64.const 4294967291)) (local.get $ya)
                             (i64.ge_u (local.get $xa) (i64.const 4294967291))))
      (local.set $pb (select (i64.sub (local.get $xb) (i64.const 4294967291)) (local.get $yb)
                             (i64.ge_u (local.get $xb) (i64.const 4294967291))))
      (i64.store32 (local.get $wa) (select (local.get $xa) (local.get $ya) (i64.ge_u (local.get $xa) (i64.const 4294967291))))
      (i64.store32 (local.get $wb) (select (local.get $xb) (local.get $yb) (i64.ge_u (local.get $xb) (i64.const 4294967291))))
      (local.set $wa (i32.add (local.get $wa) (local.get $step)))
      (local.set $ka (i32.add (local.get $ka) (local.get $step)))
      (local.set $wb (i32.add (local.get $wb) (local.get $step)))
      (local.set $kb (i32.add (local.get $kb) (local.get $step)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  ;; v2, one block: whitening, then `rounds` rounds, odd ones reversed; n >= 1
  (func (export "encode") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $stride i32) (local $r i32) (local $k i32)
    (call $whiten (local.get $w) (local.get $ks) (local.get $n))
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $k (local.get $ks))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
        (local.set $k (i32.add (local.get $k) (local.get $stride)))
        (call $round1 (local.get $w) (local.get $k) (local.get $n) (i32.and (local.get $r) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $l))))

  ;; v2, two blocks of n words with their own keystreams, interleaved; n >= 1
  (func (export "encode2") (param $wa i32) (param $ksa i32) (param $wb i32) (param $ksb i32) (param $n i32) (param $rounds i32)
    (local $stride i32) (local $r i32)
    (call $whiten (local.get $wa) (local.get $ksa) (local.get $n))
    (call $whiten (local.get $wb) (local.get $ksb) (local.get $n))
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
        (local.set $ksa (i32.add (local.get $ksa) (local.get $stride)))
        (local.set $ksb (i32.add (local.get $ksb) (local.get $stride)))
        (call $round2 (local.get $wa) (local.get $ksa) (local.get $wb) (local.get $ksb) (local.get $n) (i32.and (local.get $r) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $l))))

  ;; inverse of one reversed round: word j's chain neighbour is word j + 1 (the IV at $k for
  ;; word n - 1), so walk forwards while word j + 1 still holds this round's output
  (func $decodeRoundRev (param $w i32) (param $k i32) (param $n i32)
    (local $p i32) (local $kk i32) (local $last i32) (local $y i64) (local $prev i64) (local $key i64)
    (local.set $p (local.get $w))
    (local.set $kk (i32.add (local.get $k) (i32.const 4)))
    (local.set $last (i32.add (local.get $w) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2))))
    (loop $l
      (local.set $y (i64.load32_u (local.get $p)))
      (if (i64.lt_u (local.get $y) (i64.const 4294967291))
        (then
          (local.set $prev (call $red (i64.load32_u
            (select (local.get $k) (i32.add (local.get $p) (i32.const 4)) (i32.eq (local.get $p) (local.get $last))))))
          (local.set $key (call $red (i64.load32_u (local.get $kk))))
          (i64.store32 (local.get $p) (call $red (i64.sub (i64.sub
            (i64.add (call $mul (call $mul (local.get $y) (local.get $y)) (local.get $y)) (i64.const 8589934582))
            (local.get $key)) (local.get $prev))))))
      (local.set $kk (i32.add (local.get $kk) (i32.const 4)))
      (br_if $l (i32.le_u (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $last)))))

  ;; v2: `rounds` inverse rounds (odd ones reversed), then whitening; n >= 1
  (func (export "decode") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $stride i32) (local $k i32)
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $k (i32.add (local.get $ks) (i32.mul (local.get $stride) (local.get $rounds))))
    (loop $l
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (if (i32.and (local.get $rounds) (i32.const 1))
        (then (call $decodeRoundRev (local.get $w) (local.get $k) (local.get $n)))
        (else (call $decodeRound (local.get $w) (local.get $k) (local.get $n))))
      (br_if $l (i32.gt_u (local.tee $k (i32.sub (local.get $k) (local.get $stride))) (local.get $ks))))
    (call $whiten (local.get $w) (local.get $ks) (local.get $n)))
)
