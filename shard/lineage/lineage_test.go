package lineage

import (
	"slices"
	"testing"

	"github.com/spatehq/spate/shard"
)

// step is one thing a reader does; take is what Take must answer after it.
type step struct {
	listed  []Shard // a fresh listing, when not nil
	finish  string  // a shard read to its end
	kids    []Shard // the children its last read named
	missing []string
	take    []string
}

func sh(id string, parents ...string) Shard { return Shard{ID: id, Parents: parents} }

func TestLineage(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"split: children wait for their parent", []step{
			{listed: []Shard{sh("0")}, take: []string{"0"}},
			{finish: "0", kids: []Shard{sh("1", "0"), sh("2", "0")}, take: []string{"1", "2"}},
		}},
		{"split seen in the listing: children after the closed parent", []step{
			{listed: []Shard{sh("0"), sh("1", "0"), sh("2", "0")}, take: []string{"0"}},
			{finish: "0", kids: []Shard{sh("1", "0"), sh("2", "0")}, take: []string{"1", "2"}},
		}},
		{"merge: the child waits for both parents", []step{
			{listed: []Shard{sh("0"), sh("1")}, take: []string{"0", "1"}},
			{finish: "1", kids: []Shard{sh("2", "0", "1")}, take: nil},
			{finish: "0", kids: []Shard{sh("2", "0", "1")}, take: []string{"2"}},
		}},
		{"2 to 4 to 3 to 1", []step{
			{listed: []Shard{sh("0"), sh("1")}, take: []string{"0", "1"}},
			// UpdateShardCount 4: each splits.
			{finish: "0", kids: []Shard{sh("2", "0"), sh("3", "0")}, take: []string{"2", "3"}},
			{finish: "1", kids: []Shard{sh("4", "1"), sh("5", "1")}, take: []string{"4", "5"}},
			// UpdateShardCount 3: 6 from 2 and 3, 7 from part of 4, 8 from
			// the rest of 4 and 5.
			{finish: "2", kids: []Shard{sh("6", "2", "3")}, take: nil},
			{finish: "4", kids: []Shard{sh("7", "4"), sh("8", "4", "5")}, take: []string{"7"}},
			{finish: "3", kids: []Shard{sh("6", "2", "3")}, take: []string{"6"}},
			{finish: "5", kids: []Shard{sh("8", "4", "5")}, take: []string{"8"}},
			// UpdateShardCount 1: 9 from 6 and 7, then 10 from 9 and 8.
			{finish: "6", kids: []Shard{sh("9", "6", "7")}, take: nil},
			{finish: "7", kids: []Shard{sh("9", "6", "7")}, take: []string{"9"}},
			{finish: "8", kids: []Shard{sh("10", "9", "8")}, take: nil},
			{finish: "9", kids: []Shard{sh("10", "9", "8")}, take: []string{"10"}},
		}},
		{"trimmed parents are free", []step{
			// 0 was dropped by retention; its children name it.
			{listed: []Shard{sh("1", "0"), sh("2", "0")}, take: []string{"1", "2"}},
		}},
		{"a trimmed adjacent parent frees a merge's child", []step{
			{listed: []Shard{sh("1"), sh("2", "0", "1")}, take: []string{"1"}},
			{finish: "1", kids: []Shard{sh("2", "0", "1")}, take: []string{"2"}},
		}},
		{"a parent not met yet is missing until listed", []step{
			// 1 splits into 2 and 3 while 0 is read; 3 merges with 0 into 4.
			{listed: []Shard{sh("0"), sh("1")}, take: []string{"0", "1"}},
			{finish: "0", kids: []Shard{sh("4", "0", "3")}, missing: []string{"3"}, take: nil},
			{listed: []Shard{sh("0"), sh("1"), sh("2", "1"), sh("3", "1"), sh("4", "0", "3")}, take: nil},
			{finish: "1", kids: []Shard{sh("2", "1"), sh("3", "1")}, take: []string{"2", "3"}},
			{finish: "3", kids: []Shard{sh("4", "0", "3")}, take: []string{"4"}},
		}},
		{"a finished shard is never handed out again", []step{
			{listed: []Shard{sh("0")}, take: []string{"0"}},
			{finish: "0", kids: []Shard{sh("1", "0")}, take: []string{"1"}},
			{listed: []Shard{sh("0"), sh("1", "0")}, take: nil},
			{finish: "0", kids: []Shard{sh("1", "0")}, take: nil},
		}},
		{"finished before it was taken (a restart's checkpoint)", []step{
			{finish: "0", take: nil},
			{listed: []Shard{sh("0"), sh("1", "0"), sh("2", "0")}, take: []string{"1", "2"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			for i, s := range tc.steps {
				if s.listed != nil {
					l.Listed(s.listed)
				}
				if s.finish != "" {
					l.Finish(s.finish, s.kids)
					if !l.Finished(s.finish) {
						t.Fatalf("step %d: %s not finished", i, s.finish)
					}
				}
				if got := l.Missing(); !slices.Equal(got, s.missing) {
					t.Fatalf("step %d: Missing = %v, want %v", i, got, s.missing)
				}
				if got := l.Take(); !slices.Equal(got, s.take) {
					t.Fatalf("step %d: Take = %v, want %v", i, got, s.take)
				}
			}
		})
	}
}

func TestFromStore(t *testing.T) {
	got := FromInfo([]shard.ShardInfo{
		{ShardID: "a"},
		{ShardID: "b", ParentShardID: "a"},
		{ShardID: "c", ParentShardID: "a", AdjacentParentShardID: "b"},
	})
	want := []Shard{sh("a"), sh("b", "a"), sh("c", "a", "b")}
	if !slices.EqualFunc(got, want, func(x, y Shard) bool { return x.ID == y.ID && slices.Equal(x.Parents, y.Parents) }) {
		t.Fatalf("FromInfo = %v, want %v", got, want)
	}
	kids := FromChildren([]shard.ChildShard{{ShardID: "c", ParentShards: []string{"a", "b"}}})
	if len(kids) != 1 || kids[0].ID != "c" || !slices.Equal(kids[0].Parents, []string{"a", "b"}) {
		t.Fatalf("FromChildren = %v", kids)
	}
}

func TestRefresh(t *testing.T) {
	l := New()
	l.Listed([]Shard{sh("0"), sh("1")})
	l.Take()
	calls := 0
	list := func() ([]Shard, error) {
		calls++
		// 1 split into 2 and 3; 3 then merged with 0 into 4.
		return []Shard{sh("0"), sh("1"), sh("2", "1"), sh("3", "1"), sh("4", "0", "3")}, nil
	}
	if err := l.Refresh(list); err != nil || calls != 0 {
		t.Fatalf("Refresh with nothing missing: %v, %d listings", err, calls)
	}
	l.Finish("0", []Shard{sh("4", "0", "3")})
	if err := l.Refresh(list); err != nil || calls != 1 {
		t.Fatalf("Refresh with 3 missing: %v, %d listings", err, calls)
	}
	if got := l.Take(); got != nil {
		t.Fatalf("Take = %v before 1 ends", got)
	}
	l.Finish("1", []Shard{sh("2", "1"), sh("3", "1")})
	if got := l.Take(); !slices.Equal(got, []string{"2", "3"}) {
		t.Fatalf("Take = %v, want [2 3]", got)
	}
	if !l.Started("3") || l.Started("4") {
		t.Fatalf("Started(3) = %v, Started(4) = %v", l.Started("3"), l.Started("4"))
	}
}

func TestChildren(t *testing.T) {
	l := New()
	l.Listed([]Shard{sh("0"), sh("1"), sh("2", "0"), sh("3", "0"), sh("4", "1", "3")})
	for _, tt := range []struct {
		id   string
		want []string
	}{
		{"0", []string{"2", "3"}},
		{"1", []string{"4"}},
		{"3", []string{"4"}},
		{"4", nil},
		{"unknown", nil},
	} {
		if got := l.Children(tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("Children(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
