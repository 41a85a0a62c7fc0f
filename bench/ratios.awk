# bench/ratios.awk: paired ratios from a rounds.csv of round,system,qps,op,
# size,mb_per_s (bench/qps). Per round, each sealmr-dax cell over perftest
# with one QP and with as many QPs; for each, the median of those ratios
# and the order-statistic interval for the median: ranks (j, n+1-j) cover
# it with 1 - 2 P(Bin(n, 1/2) < j), the innermost pair still at 95%, else
# the outermost (1, n). Writes CSV to out (-v out=FILE).
NR == 1 { next }
$6 != "" { v[$2 "," $3 "," $4 "," $5 "," $1] = $6; nr = $1 > nr ? $1 : nr;
	   if ($2 == "sealmr-dax") cell[$3 "," $4 "," $5] = 1 }
function comb(n, k,   r, i) { r = 1; for (i = 1; i <= k; i++) r = r * (n - k + i) / i; return r }
function binlow(n, j,   k, t) { t = 0; for (k = 0; k < j; k++) t += comb(n, k) / 2 ^ n; return t }
function sortn(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
function emit(q, op, size, refname, refq,   r, n, x, med, lo, hi, j, cov, s, p) {
	n = 0
	for (r = 1; r <= nr; r++) {
		s = "sealmr-dax," q "," op "," size "," r; p = "perftest," refq "," op "," size "," r
		if ((s in v) && (p in v) && v[p] > 0) x[++n] = v[s] / v[p]
	}
	if (n == 0) return
	sortn(x, n)
	med = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
	# Ranks (j, n+1-j) cover the median with 1 - 2 P(Bin(n, 1/2) < j):
	# the innermost pair still at 95%, else the outermost (1, n).
	j = 1
	while (j + 1 <= n / 2 && 1 - 2 * binlow(n, j + 1) >= 0.95)
		j++
	cov = 1 - 2 * binlow(n, j)
	lo = x[j]; hi = x[n + 1 - j]
	printf "sealmr-dax,%s,%s,%s,%s,%.3f,%.3f,%.3f,%d,%.4f\n", q, op, size, refname, med, lo, hi, n, cov >> out
}
END {
	print "system,qps,op,size,ref,ratio_median,ci_low,ci_high,rounds,coverage" > out
	for (c in cell) {
		split(c, f, ",")
		emit(f[1], f[2], f[3], "perftest-q1", 1)
		if (f[1] != 1) emit(f[1], f[2], f[3], "perftest-q" f[1], f[1])
	}
}
