#!/usr/bin/env python3
"""Differential query fuzzing: the same generated InfluxQL against hyperbyted and the
reference InfluxDB (shared/conformance/reference-influxd.sh), answers compared after
normalisation (error texts are compared for presence only, floats to 9 decimals).

    python3 differential.py --ours http://127.0.0.1:8086 --reference http://127.0.0.1:18086 \
        --seed 7 --cases 300

It drops and recreates the database `df` on both servers. A developer's tool for finding
where answers differ (the e2e query fuzz only checks that the engine accepts the SQL).
"""
import json, random, sys

from differential_common import arguments, count_differences, req

args = arguments()
A = args.ours
B = args.reference
n = args.cases
R = random.Random(args.seed)
for base in (A,B):
    req(base,"/query",{"q":"DROP DATABASE df"}); req(base,"/query",{"q":"CREATE DATABASE df"})
    body="m,host=a,region=eu v=1.5,i=3i,s=\"x\",b=true 1000000000\nm,host=b,region=us v=-2,i=-7i,s=\"it's\",b=false 2000000000\nm,host=a v=10,i=0i 3000000000\nm,host=c,region=eu s=\"only\" 4000000000\n"
    status, text = req(base,"/write",{"db":"df"},body)
    if status != 204: sys.exit(f"{base}: write answered {status} {text}")
FIELDS=["v","i","s","b","missing"]; TAGS=["host","region","nosuchtag"]
def lit():
    return R.choice([str(R.randrange(100)), f"{R.randrange(100)}.5", f"-{R.randrange(10)}", "'a'", "true", "0"])
def operand(d):
    if d>2: return lit()
    c=R.randrange(6)
    if c<2: return R.choice(FIELDS)
    if c==2: return lit()
    if c==3: return f"{operand(d+1)} {R.choice(['+','-','*','/','%','&','|','^'])} {operand(d+1)}"
    if c==4: return f"({operand(d+1)})"
    return R.choice(TAGS)
def cond(d):
    if d>2 or R.randrange(3)==0:
        c=R.randrange(8)
        if c==0: return f"{R.choice(TAGS)} {R.choice(['=','!=','<>'])} '{R.choice(['a','b','','x y'])}'"
        if c==1: return f"{R.choice(TAGS)} {R.choice(['=~','!~'])} /{R.choice(['a','^b$','.*','a|b'])}/"
        if c==2: return "time " + R.choice(['>','>=','<','<=','=']) + " " + R.choice(['0','2s',"'1970-01-01T00:00:02Z'"])
        return f"{operand(d+1)} {R.choice(['=','!=','<','<=','>','>='])} {operand(d+1)}"
    x=f"{cond(d+1)} {R.choice(['AND','OR'])} {cond(d+1)}"
    return f"({x})" if R.randrange(2) else x
def query():
    agg = R.randrange(2)==0
    f=R.choice(["v","i","s","b","missing"])
    if agg:
        proj=f"{R.choice(['count','sum','mean','min','max','first','last','spread','median','mode','stddev','distinct'])}({f})"
    else:
        proj=R.choice(["v, i", f, "*"])
    q=f"SELECT {proj} FROM m"
    if R.randrange(4): q+=f" WHERE {cond(0)}"
    g=[]
    if agg and R.randrange(2): g.append(f"time({R.choice(['1s','2s'])})")
    if R.randrange(3)==0: g.append(R.choice(["host","*"]))
    if g:
        q+=" GROUP BY "+", ".join(g)
        if agg and R.randrange(2): q+=f" fill({R.choice(['none','null','0','previous','linear'])})"
    if R.randrange(3)==0: q+=" ORDER BY time DESC"
    if R.randrange(3)==0: q+=f" LIMIT {R.randrange(4)} OFFSET {R.randrange(2)}"
    return q
def norm(t):
    try: v=json.loads(t)
    except: return t
    def walk(x):
        if isinstance(x,dict):
            if "error" in x and isinstance(x["error"],str): x["error"]="E"
            return {k:walk(w) for k,w in x.items()}
        if isinstance(x,list): return [walk(y) for y in x]
        if isinstance(x,float) and x==int(x): return int(x)
        if isinstance(x,float): return round(x,9)
        return x
    return walk(v)
def bounded(q):
    # upper bound so GROUP BY time stays small
    if "GROUP BY time" in q and "WHERE" not in q: q=q.replace(" GROUP BY"," WHERE time < 5s GROUP BY")
    elif "GROUP BY time" in q: q=q.replace(" WHERE "," WHERE time < 5s AND (",1).replace(" GROUP BY",") GROUP BY",1)
    return q
count_differences(args, "df", (bounded(query()) for _ in range(n)), norm)
