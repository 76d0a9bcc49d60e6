package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cache keeps evaluated configuration files between runs: a directory of entries, each the
// invoices one file of invoice blocks evaluated to, under a key that covers everything the
// evaluation could see (cacheentry.go). plan and validate pass one in LoadOptions; apply never
// does. A Cache is safe for concurrent use, and processes may share its directory.
//
// Entries hold the invoices' requests, so personal data (email_user, sender_data): they are
// written 0600 in a directory of mode 0700, and the directory must be kept as private as the
// state.
type Cache struct {
	dir      string // DIR/v1: ours alone
	maxBytes int64

	toolOnce sync.Once
	tool     [32]byte
	toolErr  error
	toolOf   func() ([]byte, error)

	hits, misses, writes, failures atomic.Int64
}

// CacheOptions configures a Cache.
type CacheOptions struct {
	// Tool identifies the program that evaluates, as bytes that change whenever it does;
	// nil means the running executable's own bytes (os.Executable), read and hashed once,
	// so that a rebuilt binary never takes an entry an older one wrote.
	Tool func() ([]byte, error)
	// MaxBytes bounds the entries kept: Prune deletes the least recently used ones beyond
	// it. 0 means DefaultCacheMaxBytes.
	MaxBytes int64
}

// DefaultCacheMaxBytes is the size Prune keeps a cache directory under by default: about
// 3.5 million invoices' entries.
const DefaultCacheMaxBytes = 1 << 30

// cacheFormat is the version of the entry layout; entries of another are misses. It names
// the subdirectory, so a layout change starts an empty directory beside the old one.
const cacheFormat = 1

// cacheMagic opens every entry.
var cacheMagic = [8]byte{'i', 'f', 'c', 'a', 'c', 'h', 'e', cacheFormat}

const (
	cacheExt = ".entry"
	// maxEntrySize bounds what reading an entry accepts: a file of invoice blocks is at
	// most MaxFileSize, and its entry is about the same size.
	maxEntrySize = 2 * MaxFileSize
	// staleTemp is the age from which a temporary file is a crashed writer's, deleted by
	// Prune.
	staleTemp = time.Hour
)

// OpenCache opens (creating it when missing) the cache directory dir.
func OpenCache(dir string, opts CacheOptions) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("cache: no directory given")
	}
	sub := filepath.Join(dir, fmt.Sprintf("v%d", cacheFormat))
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// The subdirectory is ours: whatever made it wider (a cache restored by CI), entries
	// with personal data stay unlisted to others.
	if err := os.Chmod(sub, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c := &Cache{dir: sub, maxBytes: opts.MaxBytes, toolOf: opts.Tool}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultCacheMaxBytes
	}
	if c.toolOf == nil {
		c.toolOf = executableBytes
	}
	// Read and hash the executable while the configuration is read: every key needs it.
	go func() { _, _ = c.toolHash() }()
	return c, nil
}

// CacheStats counts what a Cache did.
type CacheStats struct {
	// Hits are files whose invoices came from an entry; Misses are files looked up and
	// evaluated (entry absent, stale, corrupt or foreign).
	Hits, Misses int64
	// Writes are entries written; Failures are entries that could not be read or written
	// for another reason than their absence (the load goes on without them).
	Writes, Failures int64
}

// Stats returns the counts so far.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Writes: c.writes.Load(), Failures: c.failures.Load()}
}

// Dir is the directory entries are kept in.
func (c *Cache) Dir() string { return c.dir }

func executableBytes() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(exe)
}

// toolHash is the SHA-256 of the tool's bytes, computed once.
func (c *Cache) toolHash() ([32]byte, error) {
	c.toolOnce.Do(func() {
		b, err := c.toolOf()
		if err != nil {
			c.toolErr = fmt.Errorf("cache: identifying the executable: %w", err)
			return
		}
		c.tool = sha256.Sum256(b)
	})
	return c.tool, c.toolErr
}

func (c *Cache) path(key [32]byte) string {
	return filepath.Join(c.dir, hex.EncodeToString(key[:])+cacheExt)
}

// An entry file is the magic, the key it was written under, the payload's length (8 bytes,
// little-endian), the payload, and the CRC-32C of everything before it (4 bytes,
// little-endian). The checksum finds a torn or damaged entry; no checksum could keep out one
// written on purpose by whoever can write the directory (see the Cache type).
const entryOverhead = len(cacheMagic) + 32 + 8 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// get returns the payload stored under key, or nil when there is none or it is not whole and
// ours. A hit is marked used (its modification time), for Prune.
func (c *Cache) get(key [32]byte) []byte {
	p := c.path(key)
	data, err := readEntry(p)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.failures.Add(1)
		}
		return nil
	}
	payload, ok := openEntry(data, key)
	if !ok {
		return nil
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // for Prune only
	return payload
}

// readEntry reads an entry file whole, in one read of the size it has: entries are large,
// and io.ReadAll's growing buffer costs more than the read.
func readEntry(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, maxEntrySize); err != nil {
		return nil, err
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err // shorter than it was: a writer replaced it, a miss
	}
	return data, nil
}

// openEntry checks an entry's frame and returns its payload.
func openEntry(data []byte, key [32]byte) ([]byte, bool) {
	if len(data) < entryOverhead || !bytes.Equal(data[:len(cacheMagic)], cacheMagic[:]) {
		return nil, false
	}
	rest := data[len(cacheMagic):]
	if !bytes.Equal(rest[:32], key[:]) {
		return nil, false // an entry copied or renamed under another key
	}
	n := binary.LittleEndian.Uint64(rest[32:40])
	if n != uint64(len(data)-entryOverhead) {
		return nil, false // truncated, or extended
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, false
	}
	return body[entryHeader:], true
}

// entryHeader is the size of an entry before its payload.
const entryHeader = len(cacheMagic) + 32 + 8

// sealEntry frames the payload in buf[entryHeader:] for key, in place: buf's first
// entryHeader bytes are left for it.
func sealEntry(key [32]byte, buf []byte) []byte {
	copy(buf, cacheMagic[:])
	copy(buf[len(cacheMagic):], key[:])
	binary.LittleEndian.PutUint64(buf[len(cacheMagic)+32:], uint64(len(buf)-entryHeader))
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

// put stores an entry (sealEntry) under key: written to a temporary file and renamed into
// place, so a reader sees the whole entry or none, and two processes writing the same key
// leave one.
func (c *Cache) put(key [32]byte, entry []byte) {
	if err := c.write(key, entry); err != nil {
		c.failures.Add(1)
		return
	}
	c.writes.Add(1)
}

func (c *Cache) write(key [32]byte, data []byte) error {
	tmp, err := os.CreateTemp(c.dir, ".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	// No fsync: an entry lost or torn by a crash is a miss (its checksum), never a wrong
	// result, and a plan of 100 files would otherwise wait for 100 of them.
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path(key))
}

// Prune deletes the least recently used entries (by modification time: a hit renews it)
// until those left take at most the cache's MaxBytes, and temporary files that crashed
// writers left more than an hour ago. Files that are not entries are left alone.
func (c *Cache) Prune() error {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	type entry struct {
		name string
		size int64
		used time.Time
	}
	var entries []entry
	var total int64
	now := time.Now()
	for _, de := range des {
		name := de.Name()
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			if now.Sub(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(c.dir, name))
			}
		case strings.HasSuffix(name, cacheExt):
			entries = append(entries, entry{name, info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	if total <= c.maxBytes {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.Before(entries[j].used) })
	var first error
	for _, e := range entries {
		if total <= c.maxBytes {
			break
		}
		if err := os.Remove(filepath.Join(c.dir, e.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			if first == nil {
				first = fmt.Errorf("cache: %w", err)
			}
			continue
		}
		total -= e.size
	}
	return first
}
