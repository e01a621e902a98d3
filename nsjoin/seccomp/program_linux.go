//go:build linux

package seccomp

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
)

var knownOps = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

// program lays out the filter:
//
//	ld arch; native? else ja other
//	native: ld nr; [amd64: nr >= x32 bit -> bad ABI]; rules...; ret default
//	other:  per compat ABI the same; ret bad ABI
//
// Rules are a linear chain, each a block that jumps to its own end when
// the syscall or an argument does not match, so every conditional jump
// stays short (classic BPF's are 8-bit); only the jumps between ABI
// sections use ja, whose offset is 32-bit.
func program(native abi, compat []abi, rules []rule, def uint32) ([]bpf.Instruction, error) {
	nat, err := section(native, rules, def)
	if err != nil {
		return nil, err
	}
	p := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native.audit, SkipTrue: 1},
		bpf.Jump{Skip: uint32(len(nat))},
	}
	p = append(p, nat...)
	for _, c := range compat {
		sec, err := section(c, rules, def)
		if err != nil {
			return nil, err
		}
		p = append(p, bpf.JumpIf{Cond: bpf.JumpEqual, Val: c.audit, SkipTrue: 1}, bpf.Jump{Skip: uint32(len(sec))})
		p = append(p, sec...)
	}
	return append(p, bpf.RetConstant{Val: retBadABI}), nil
}

// section is one ABI's part: it ends in a return, never falls through.
func section(a abi, rules []rule, def uint32) ([]bpf.Instruction, error) {
	p := []bpf.Instruction{bpf.LoadAbsolute{Off: offNr, Size: 4}}
	if a.arch == specs.ArchX86_64 {
		// x32 calls share the x86_64 audit arch, with bit 30 set.
		p = append(p, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32Bit, SkipFalse: 1}, bpf.RetConstant{Val: retBadABI})
	}
	for _, r := range rules {
		nr, ok := a.nums.lookup(r.name)
		if !ok {
			continue // a syscall of another ABI
		}
		b, err := block(nr, r)
		if err != nil {
			return nil, err
		}
		p = append(p, b...)
	}
	return append(p, bpf.RetConstant{Val: def}), nil
}

// Jump targets inside a block, resolved once its length is known.
const (
	tNext = iota // the next instruction
	tPass        // the end of the current argument check
	tFail        // the end of the block: the next rule
)

type jmp struct {
	cond   bpf.JumpTest
	val    uint32
	jt, jf int
}

// block is one rule: nr matches and every argument check passes -> ret.
// Argument checks load into A, so a block with checks ends by reloading
// the syscall number, where its failures land too.
func block(nr uint32, r rule) ([]bpf.Instruction, error) {
	if len(r.args) == 0 {
		return []bpf.Instruction{
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: 1},
			bpf.RetConstant{Val: r.ret},
		}, nil
	}
	type item struct {
		ins  bpf.Instruction // or a jump:
		j    *jmp
		pass int // index of the end of its check
	}
	var items []item
	var start int
	emit := func(ins bpf.Instruction) { items = append(items, item{ins: ins}) }
	jump := func(cond bpf.JumpTest, val uint32, jt, jf int) {
		items = append(items, item{j: &jmp{cond, val, jt, jf}})
	}
	jump(bpf.JumpEqual, nr, tNext, tFail)
	for _, a := range r.args {
		start = len(items)
		lo, hi := uint32(offArgs+8*a.Index), uint32(offArgs+8*a.Index+4)
		v, v2 := a.Value, a.ValueTwo
		ldHi, ldLo := bpf.LoadAbsolute{Off: hi, Size: 4}, bpf.LoadAbsolute{Off: lo, Size: 4}
		switch a.Op {
		case specs.OpEqualTo:
			emit(ldHi)
			jump(bpf.JumpEqual, uint32(v>>32), tNext, tFail)
			emit(ldLo)
			jump(bpf.JumpEqual, uint32(v), tNext, tFail)
		case specs.OpNotEqual:
			emit(ldHi)
			jump(bpf.JumpEqual, uint32(v>>32), tNext, tPass)
			emit(ldLo)
			jump(bpf.JumpEqual, uint32(v), tFail, tNext)
		case specs.OpMaskedEqual: // (arg & Value) == ValueTwo
			emit(ldHi)
			emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: uint32(v >> 32)})
			jump(bpf.JumpEqual, uint32(v2>>32), tNext, tFail)
			emit(ldLo)
			emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: uint32(v)})
			jump(bpf.JumpEqual, uint32(v2), tNext, tFail)
		case specs.OpGreaterThan, specs.OpGreaterEqual:
			emit(ldHi)
			jump(bpf.JumpGreaterThan, uint32(v>>32), tPass, tNext)
			jump(bpf.JumpEqual, uint32(v>>32), tNext, tFail)
			emit(ldLo)
			c := bpf.JumpGreaterThan
			if a.Op == specs.OpGreaterEqual {
				c = bpf.JumpGreaterOrEqual
			}
			jump(c, uint32(v), tNext, tFail)
		case specs.OpLessThan, specs.OpLessEqual:
			emit(ldHi)
			jump(bpf.JumpGreaterOrEqual, uint32(v>>32), tNext, tPass) // hi < vhi
			jump(bpf.JumpEqual, uint32(v>>32), tNext, tFail)          // hi > vhi
			emit(ldLo)
			c := bpf.JumpGreaterOrEqual // lo >= v fails LT
			if a.Op == specs.OpLessEqual {
				c = bpf.JumpGreaterThan
			}
			jump(c, uint32(v), tFail, tNext)
		default:
			return nil, fmt.Errorf("operator %q", a.Op) // checked before
		}
		for i := start; i < len(items); i++ {
			items[i].pass = len(items)
		}
	}
	emit(bpf.RetConstant{Val: r.ret})
	fail := len(items)
	emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
	out := make([]bpf.Instruction, len(items))
	for i, it := range items {
		if it.j == nil {
			out[i] = it.ins
			continue
		}
		skip := func(t int) (uint8, error) {
			to := i + 1
			switch t {
			case tPass:
				to = it.pass
			case tFail:
				to = fail
			}
			if to-i-1 > 255 {
				return 0, fmt.Errorf("jump too long")
			}
			return uint8(to - i - 1), nil
		}
		st, err := skip(it.j.jt)
		if err != nil {
			return nil, err
		}
		sf, err := skip(it.j.jf)
		if err != nil {
			return nil, err
		}
		out[i] = bpf.JumpIf{Cond: it.j.cond, Val: it.j.val, SkipTrue: st, SkipFalse: sf}
	}
	return out, nil
}
