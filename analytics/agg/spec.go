package agg

// Kind names an aggregate function.
type Kind uint8

// The aggregate functions of the SQL dialect.
const (
	Count               Kind = iota + 1 // COUNT(*) when Spec.Star, else COUNT(x): non-NULL x
	Sum                                 // SUM(x): BIGINT while every x is, else DOUBLE; NULL over no rows
	Avg                                 // AVG(x): DOUBLE
	Min                                 // MIN(x) by value.Compare
	Max                                 // MAX(x)
	FirstValue                          // FIRST_VALUE(x): x of the row with the earliest event time
	LastValue                           // LAST_VALUE(x): x of the row with the latest event time
	ApproxCountDistinct                 // APPROX_COUNT_DISTINCT(x): HyperLogLog
	ApproxPercentile                    // APPROX_PERCENTILE(x, p): p in [0, 1] is Spec.Param
)

// Spec is one aggregate of a query as the planner resolved it.
type Spec struct {
	Kind     Kind
	Star     bool    // COUNT(*)
	Distinct bool    // COUNT(DISTINCT x), SUM(DISTINCT x), ...: exact, over value.AppendKey
	Param    float64 // the percentile of ApproxPercentile
}
