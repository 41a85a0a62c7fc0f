# bench/stats.awk: from bench/run's values.csv (round,system,op,size,metric,
# value: every figure of every round), the paired ratios and the medians.
#
#   awk -F, -v pairs=PAIRS -v ratios=OUT -v medians=OUT -f bench/stats.awk values.csv
#
# PAIRS has lines "system,op,size,metric,ref,ref_op,factor": per round, the
# cell's value over factor x the reference's (same size and metric) in that
# round; rounds missing either side are left out. For each compared cell:
# the median of those ratios and the order-statistic interval for the
# median, ranks (j, n+1-j), which cover it with 1 - 2 P(Bin(n, 1/2) < j):
# the innermost pair still at 95%, else the outermost (1, n) (5 rounds:
# 93.75%, 7: 98.4%, 9: ranks 2 and 8, 96.1%). The same for every absolute
# figure (medians).
function comb(n, k,   r, i) { r = 1; for (i = 1; i <= k; i++) r = r * (n - k + i) / i; return r }
function binlow(n, j,   k, t) { t = 0; for (k = 0; k < j; k++) t += comb(n, k) / 2 ^ n; return t }
function sortn(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
# interval(x, n): sorts x, sets MED, LO, HI.
function interval(x, n,   j) {
	sortn(x, n)
	MED = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
	j = 1
	while (j + 1 <= n / 2 && 1 - 2 * binlow(n, j + 1) >= 0.95)
		j++
	LO = x[j]; HI = x[n + 1 - j]
}
FNR == 1 { next }
$6 != "" && $6 + 0 != 0 {
	v[$2 "," $3 "," $4 "," $5 "," $1] = $6; nr = $1 > nr ? $1 : nr
	k = $2 "," $3 "," $4 "," $5
	if (!(k in seen)) { seen[k] = 1; keys[++nk] = k }
}
END {
	print "system,op,size,ref,ratio_median,ci_low,ci_high,rounds" > ratios
	while ((getline line < pairs) > 0) {
		if (line ~ /^#/ || line == "") continue
		split(line, p, ",")
		n = 0
		delete x
		for (r = 1; r <= nr; r++) {
			s = p[1] "," p[2] "," p[3] "," p[4] "," r
			q = p[5] "," p[6] "," p[3] "," p[4] "," r
			if ((s in v) && (q in v) && v[q] > 0) x[++n] = v[s] / (p[7] * v[q])
		}
		if (n == 0) continue
		interval(x, n)
		ref = p[5] (p[7] != 1 ? "-x" p[7] : "")
		printf "%s,%s,%s,%s,%.3f,%.3f,%.3f,%d\n", p[1], p[2], p[3], ref, MED, LO, HI, n > ratios
	}
	print "system,op,size,metric,median,ci_low,ci_high,rounds" > medians
	for (i = 1; i <= nk; i++) {
		n = 0
		delete x
		for (r = 1; r <= nr; r++)
			if ((keys[i] "," r) in v) x[++n] = v[keys[i] "," r]
		interval(x, n)
		printf "%s,%.3f,%.3f,%.3f,%d\n", keys[i], MED, LO, HI, n > medians
	}
}
