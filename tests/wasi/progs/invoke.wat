;; tests/wasi/progs/invoke.wat -- exports called with `weft run --invoke` (tests/wasi/CMakeLists.txt,
;; tests wasi.invoke_*): the invoked export sees the same WASI context as _start would: --env
;; variables through environ_get, --dir preopens (fd 3) through path_open, and argv = FILE only.
;; Plain WASI preview1 imports; weft runs the text directly (text front end).
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  ;; 0..63 scratch (sizes, iovec, fds); 64 "inside.txt"; 80 "out.txt"; 96 the text written;
  ;; 256..511 read buffer; 1024 environ pointers; 4096 environ strings.
  (memory (export "memory") 1)
  (data (i32.const 64) "inside.txt")
  (data (i32.const 80) "out.txt")
  (data (i32.const 96) "written by an invoked export\n")

  ;; Writes len bytes at ptr to stdout.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  ;; Prints every environment variable on its own line; returns how many there are, or
  ;; -errno when environ_sizes_get / environ_get fail.
  (func (export "env") (result i32)
    (local $err i32) (local $size i32) (local $i i32)
    (local.set $err (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    (local.set $size (i32.load (i32.const 4)))
    (if (i32.gt_u (local.get $size) (i32.const 60000)) (then (return (i32.const -1000))))
    (local.set $err (call $environ_get (i32.const 1024) (i32.const 4096)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    ;; the strings are NUL-terminated and contiguous: turn each NUL into a newline
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
        (if (i32.eqz (i32.load8_u (i32.add (i32.const 4096) (local.get $i))))
          (then (i32.store8 (i32.add (i32.const 4096) (local.get $i)) (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $print (i32.const 4096) (local.get $size))
    (i32.load (i32.const 0)))

  ;; argc * 1000 + x: shows the invoke arguments are the export's, not the guest's argv.
  (func (export "argc") (param $x i32) (result i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 1000)) (local.get $x)))

  ;; Opens inside.txt in the first preopened directory (fd 3), prints what it reads and returns
  ;; the byte count, or -errno of the call that failed.
  (func (export "read_file") (result i32)
    (local $err i32) (local $fd i32)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 10)
                                     (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
                                     (i32.const 8)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    (local.set $fd (i32.load (i32.const 8)))
    (i32.store (i32.const 32) (i32.const 256))
    (i32.store (i32.const 36) (i32.const 256))
    (local.set $err (call $fd_read (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
    (drop (call $fd_close (local.get $fd)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    (call $print (i32.const 256) (i32.load (i32.const 40)))
    (i32.load (i32.const 40)))

  ;; Creates (or truncates) out.txt in fd 3 and writes one line to it; returns the bytes written
  ;; or -errno.
  (func (export "write_file") (result i32)
    (local $err i32) (local $fd i32)
    ;; oflags: creat (1) | trunc (8); rights: fd_write (1 << 6)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 80) (i32.const 7)
                                     (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0)
                                     (i32.const 8)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    (local.set $fd (i32.load (i32.const 8)))
    (i32.store (i32.const 32) (i32.const 96))
    (i32.store (i32.const 36) (i32.const 29))
    (local.set $err (call $fd_write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
    (drop (call $fd_close (local.get $fd)))
    (if (local.get $err) (then (return (i32.sub (i32.const 0) (local.get $err)))))
    (i32.load (i32.const 40))))
