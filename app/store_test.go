package app

import (
	"errors"
	"testing"
	"time"
)

func TestMemoryStoreClaimDue(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore(10)
	now := time.Now()
	for i, m := range []Monitor{
		{ID: "late", Status: MonitorActive, Interval: time.Minute, NextCheckAt: now.Add(-time.Hour)},
		{ID: "due", Status: MonitorActive, Interval: time.Minute, NextCheckAt: now},
		{ID: "future", Status: MonitorActive, Interval: time.Minute, NextCheckAt: now.Add(time.Hour)},
		{ID: "paused", Status: MonitorPaused, Interval: time.Minute, NextCheckAt: now.Add(-time.Hour)},
	} {
		if err := s.CreateMonitor(ctx, m); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	got, _ := s.ClaimDue(ctx, now, 1)
	if len(got) != 1 || got[0].ID != "late" {
		t.Fatalf("first claim %+v, want the most overdue", got)
	}
	got, _ = s.ClaimDue(ctx, now, 10)
	if len(got) != 1 || got[0].ID != "due" {
		t.Fatalf("second claim %+v, want only the one left due", got)
	}
	if got, _ := s.ClaimDue(ctx, now, 10); len(got) != 0 {
		t.Errorf("claimed twice: %+v", got)
	}
	if m, _ := s.Monitor(ctx, "late"); !m.NextCheckAt.Equal(now.Add(time.Minute)) {
		t.Errorf("next check %v, want an interval past now", m.NextCheckAt)
	}
}

func TestMemoryStoreCopies(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore(1)
	_ = s.CreateMonitor(ctx, Monitor{ID: "a", RecentAlerts: []Alert{{ID: "x"}}})
	m, _ := s.Monitor(ctx, "a")
	m.RecentAlerts[0].ID = "changed"
	if again, _ := s.Monitor(ctx, "a"); again.RecentAlerts[0].ID != "x" {
		t.Error("a returned monitor aliases the stored one")
	}
	if _, err := s.UpdateMonitor(ctx, "a", func(*Monitor) error { return errors.New("no") }); err == nil {
		t.Error("update error not returned")
	}
	if err := s.CreateMonitor(ctx, Monitor{ID: "b"}); !errors.Is(err, ErrStoreFull) {
		t.Errorf("over the bound: %v", err)
	}
	if _, err := s.Monitor(ctx, "zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}
