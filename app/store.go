package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MonitorStatus is whether the scheduler runs a monitor's checks.
type MonitorStatus string

const (
	// MonitorActive monitors are checked every Interval.
	MonitorActive MonitorStatus = "active"
	// MonitorPaused monitors paused themselves after PauseThreshold
	// consecutive failed checks; POST /api/monitors/{id}/resume reactivates.
	MonitorPaused MonitorStatus = "paused"
)

// maxRecentAlerts bounds the alerts kept on a monitor.
const maxRecentAlerts = 20

// Monitor is an intelligence monitor: a company/industry watched every
// Interval for anomalies in its signals.
type Monitor struct {
	ID       string
	Company  string
	Industry string
	Interval time.Duration
	Status   MonitorStatus
	// ErrorCount counts consecutive failed checks; a success resets it.
	ErrorCount      int
	Checks          int
	ChangesDetected int
	AlertsGenerated int
	LastError       string
	CreatedAt       time.Time
	LastCheckAt     time.Time
	NextCheckAt     time.Time
	PausedAt        time.Time
	// RecentAlerts holds the last maxRecentAlerts alerts, oldest first.
	RecentAlerts []Alert
}

func (m Monitor) clone() Monitor {
	m.RecentAlerts = slices.Clone(m.RecentAlerts)
	return m
}

var (
	// ErrNotFound is returned for an unknown monitor ID.
	ErrNotFound = errors.New("monitor not found")
	// ErrStoreFull is returned when a store refuses a new monitor.
	ErrStoreFull = errors.New("monitor store is full")
)

// Store keeps monitors. Implementations must be safe for concurrent use and
// hand out copies: a Monitor returned by one call is not changed by later
// ones.
type Store interface {
	// CreateMonitor stores m, whose ID is new; ErrStoreFull if it cannot.
	CreateMonitor(ctx context.Context, m Monitor) error
	// Monitor returns the monitor id, or ErrNotFound.
	Monitor(ctx context.Context, id string) (Monitor, error)
	// Monitors returns up to limit monitors, newest first, and how many
	// there are in all.
	Monitors(ctx context.Context, limit int) ([]Monitor, int, error)
	// UpdateMonitor applies update to the monitor id atomically and returns
	// the result; if update returns an error nothing changes.
	UpdateMonitor(ctx context.Context, id string, update func(*Monitor) error) (Monitor, error)
	// ClaimDue returns up to max active monitors whose NextCheckAt is not
	// after now, most overdue first, and moves each one's NextCheckAt an
	// Interval past now so no other claim returns it meanwhile.
	ClaimDue(ctx context.Context, now time.Time, max int) ([]Monitor, error)
}

// memoryStore is the in-memory Store, bounded to max monitors.
type memoryStore struct {
	mu    sync.Mutex
	max   int
	byID  map[string]*Monitor
	order []string // creation order
}

// NewMemoryStore returns an in-memory Store holding at most max monitors.
func NewMemoryStore(max int) Store {
	return &memoryStore{max: max, byID: map[string]*Monitor{}}
}

func (s *memoryStore) CreateMonitor(_ context.Context, m Monitor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.max {
		return fmt.Errorf("creating monitor: %w (%d monitors)", ErrStoreFull, s.max)
	}
	if _, dup := s.byID[m.ID]; dup {
		return fmt.Errorf("creating monitor %s: duplicate ID", m.ID)
	}
	c := m.clone()
	s.byID[m.ID] = &c
	s.order = append(s.order, m.ID)
	return nil
}

func (s *memoryStore) Monitor(_ context.Context, id string) (Monitor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Monitor{}, fmt.Errorf("monitor %q: %w", id, ErrNotFound)
	}
	return m.clone(), nil
}

func (s *memoryStore) Monitors(_ context.Context, limit int) ([]Monitor, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.order))
	out := make([]Monitor, 0, n)
	for i := len(s.order) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, s.byID[s.order[i]].clone())
	}
	return out, len(s.order), nil
}

func (s *memoryStore) UpdateMonitor(_ context.Context, id string, update func(*Monitor) error) (Monitor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Monitor{}, fmt.Errorf("monitor %q: %w", id, ErrNotFound)
	}
	c := m.clone()
	if err := update(&c); err != nil {
		return m.clone(), err
	}
	*m = c
	return c.clone(), nil
}

func (s *memoryStore) ClaimDue(_ context.Context, now time.Time, max int) ([]Monitor, error) {
	if max <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*Monitor
	for _, m := range s.byID {
		if m.Status == MonitorActive && !m.NextCheckAt.After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b *Monitor) int { return cmp.Compare(a.NextCheckAt.UnixNano(), b.NextCheckAt.UnixNano()) })
	due = due[:min(max, len(due))]
	out := make([]Monitor, len(due))
	for i, m := range due {
		m.NextCheckAt = now.Add(m.Interval)
		out[i] = m.clone()
	}
	return out, nil
}
