;; The cube-cbc-v1 encoding kernel (main/hosting/encoding.ts) in WebAssembly, byte-identical to
;; the JavaScript reference in main/hosting/encoding-js.ts. Assembled with wabt by
;; scripts/build-wasm.mjs into main/hosting/encoding-kernel.ts (base64); a unit test reassembles
;; this file and checks it gives the committed bytes.
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

  ;; whitening, then `rounds` rounds; n >= 1
  (func (export "encode") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $r i32) (local $stride i32)
    (call $whiten (local.get $w) (local.get $ks) (local.get $n))
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (loop $l
      (local.set $ks (i32.add (local.get $ks) (local.get $stride)))
      (call $encodeRound (local.get $w) (local.get $ks) (local.get $n))
      (br_if $l (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rounds)))))

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

  ;; `rounds` inverse rounds, then whitening; n >= 1
  (func (export "decode") (param $w i32) (param $ks i32) (param $n i32) (param $rounds i32)
    (local $stride i32) (local $k i32)
    (local.set $stride (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2)))
    (local.set $k (i32.add (local.get $ks) (i32.mul (local.get $stride) (local.get $rounds))))
    (loop $l
      (call $decodeRound (local.get $w) (local.get $k) (local.get $n))
      (br_if $l (i32.gt_u (local.tee $k (i32.sub (local.get $k) (local.get $stride))) (local.get $ks))))
    (call $whiten (local.get $w) (local.get $ks) (local.get $n)))
)
