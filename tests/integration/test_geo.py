"""Geo commands: Keel vs redis-server 7.0, raw reply bytes (RESP2 and RESP3).

- CASES: command sequences for GEOADD GEODIST GEOHASH GEOPOS GEORADIUS
  GEORADIUSBYMEMBER (and _RO) GEOSEARCH GEOSEARCHSTORE, every option and
  error (and their order: type check, member lookup, value errors, syntax
  errors), poles, the antimeridian, empty and missing keys.
- Keyspace events of every writing form, compared with the oracle's.
- Randomized: many random points, random searches by radius and box with
  every unit and option combination (stores included), same bytes as the oracle.
- GEOADD is propagated to the AOF as the ZADD it is; STORE forms as sent.
- COMMAND GETKEYS of the STORE forms; one HTTP smoke (/GEOADD/...).
"""

import os
import random
import time

import pytest

from harness import RawConn, cmds, parse_one
from helpers import key_events
from http_servers import _s1, kh  # noqa: F401 (the HTTP smoke test's server)
from test_http_helpers import get
from test_http_webdis import same, webdis  # noqa: F401 (webdis in front of redis-server)

SICILY = "GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"
MORE = ("GEOADD k 12.758489 38.788135 edge1 17.241510 38.788135 edge2 "
        "13.583333 37.316667 Agrigento 2.3522 48.8566 Paris")
POLES = ("GEOADD p 0 85.05112878 north 0 -85.05112878 south 180 0 e180 -180 0 w180 "
         "179.9999 10 near_am_e -179.9999 10 near_am_w 0 0 origin")

CASES = {
    # ---------------------------------------------------------------- GEOADD
    "geoadd_basic": [SICILY, "ZRANGE k 0 -1 WITHSCORES", "TYPE k", "OBJECT ENCODING k",
                     SICILY, "GEOADD k 13.361389 38.115556 Palermo 1 1 new", "ZCARD k"],
    "geoadd_options": [SICILY, "GEOADD k NX 1 1 Palermo 2 2 x", "GEOADD k XX 1 1 Palermo 3 3 y",
                       "GEOADD k XX CH 5 5 Palermo 3 3 y", "GEOADD k CH 5 5 Palermo 6 6 z",
                       "GEOADD k ch nx 7 7 w", "GEOADD k nx nx 8 8 v", "GEOADD k XX XX CH CH 9 9 v",
                       "GEOADD missing XX 1 1 a", "EXISTS missing", "ZRANGE k 0 -1 WITHSCORES"],
    "geoadd_errors": ["GEOADD k 200 100 x", "GEOADD k 1 100 x", "GEOADD k -180.1 0 x",
                      "GEOADD k 0 85.06 x", "GEOADD k 0 -85.06 x", "GEOADD k abc 1 x",
                      "GEOADD k 1 abc x", "GEOADD k 1 2 x 3", "GEOADD k 1 2 x 3 4",
                      "GEOADD k nx xx 1 2 x", "GEOADD k xx nx 1 2 x", "GEOADD k ch ch ch",
                      "GEOADD k NX 1 2", "GEOADD k 1 2", "GEOADD k 1 2 a 200 1 b", "EXISTS k",
                      "GEOADD k 1 2 a abc 1 b", "GEOADD k nx xx 200 1 b", "GEOADD k nan 1 a",
                      "GEOADD k inf 1 a", "GEOADD k 1e400 1 a", "GEOADD k '' 1 a",
                      "GEOADD k GT 1 1 a", "EXISTS k"],
    "geoadd_wrongtype": ["SET s v", "GEOADD s 1 1 x", "GEOADD s 200 1 x", "GEOADD s 1 2 x 3",
                         "GEOADD s abc 1 x"],
    "geoadd_limits": ["GEOADD k 180 85.05112878 a -180 -85.05112878 b 0 0 c -0 -0 d",
                      "ZRANGE k 0 -1 WITHSCORES", "GEOPOS k a b c d", "GEOHASH k a b c d"],
    "geoadd_members_like_flags": ["GEOADD k 1 1 nx 2 2 xx 3 3 ch", "ZRANGE k 0 -1",
                                  ["GEOADD", "k", "1", "1", b"\x00\xff", "2", "2", ""],
                                  ["GEOPOS", "k", b"\x00\xff", ""]],
    # --------------------------------------------------------------- GEODIST
    "geodist": [SICILY, "GEODIST k Palermo Catania", "GEODIST k Palermo Catania m",
                "GEODIST k Palermo Catania km", "GEODIST k Palermo Catania KM",
                "GEODIST k Palermo Catania ft", "GEODIST k Palermo Catania mi",
                "GEODIST k Palermo Palermo", "GEODIST k Palermo nosuch",
                "GEODIST k nosuch Palermo km", "GEODIST nokey a b", "GEODIST nokey a b km"],
    "geodist_errors": [SICILY, "GEODIST k Palermo Catania yd", "GEODIST nokey a b yd",
                       "GEODIST k Palermo Catania km extra", "GEODIST k Palermo Catania yd extra",
                       "GEODIST k Palermo", "SET s v", "GEODIST s a b", "GEODIST s a b yd",
                       "GEODIST s a b km"],
    "geodist_same_longitude": ["GEOADD k 10 0 a 10 80 b 10 -80 c 10 1e-7 d",
                               "GEODIST k a b", "GEODIST k b c", "GEODIST k a d",
                               "GEODIST k a c mi"],
    # ------------------------------------------------------- GEOHASH GEOPOS
    "geohash": [SICILY, MORE, "GEOHASH k Palermo Catania nosuch Paris edge1", "GEOHASH k",
                "GEOHASH nokey a b", "GEOHASH nokey", "SET s v", "GEOHASH s a", "GEOHASH s"],
    "geopos": [SICILY, MORE, "GEOPOS k Palermo Catania nosuch Paris edge2", "GEOPOS k",
               "GEOPOS nokey a b", "GEOPOS nokey", "SET s v", "GEOPOS s a"],
    "geo_on_plain_zset": ["ZADD z 0 zero 1 one 4503599627370495 max 4503599627370496 over "
                          "-1 neg 1.5 frac",
                          "GEOPOS z zero one max over neg frac", "GEOHASH z zero one max over frac",
                          "GEODIST z zero max", "GEORADIUS z 0 0 20000 km WITHCOORD WITHHASH",
                          "GEOSEARCH z FROMLONLAT 0 0 BYBOX 40000 40000 km ASC WITHDIST"],
    # ------------------------------------------------------------- GEORADIUS
    "georadius": [SICILY, MORE, "GEORADIUS k 15 37 200 km", "GEORADIUS k 15 37 200 km ASC",
                  "GEORADIUS k 15 37 200 km DESC", "GEORADIUS k 15 37 200 km WITHDIST",
                  "GEORADIUS k 15 37 200 km WITHCOORD", "GEORADIUS k 15 37 200 km WITHHASH",
                  "GEORADIUS k 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
                  "GEORADIUS k 15 37 200000 m withdist", "GEORADIUS k 15 37 200 mi withdist",
                  "GEORADIUS k 15 37 600000 ft withdist desc", "GEORADIUS k 15 37 0 km",
                  "GEORADIUS k 15 37 1 km", "GEORADIUS k 15 37 5000 km DESC WITHDIST",
                  "GEORADIUS k 15 37 20000 km ASC", "GEORADIUS k 15 37 200 KM COUNT 1",
                  "GEORADIUS k 15 37 200 km COUNT 2 DESC", "GEORADIUS k 15 37 200 km COUNT 1 ANY",
                  "GEORADIUS k 15 37 200 km ANY COUNT 3", "GEORADIUS k 15 37 200 km COUNT 100",
                  "GEORADIUS k 15 37 200 km ASC DESC", "GEORADIUS k 15 37 200 km DESC ASC",
                  "GEORADIUS k 15 37 200 km COUNT 5 COUNT 1",
                  "GEORADIUS k 15 37 200 km withdist withdist count 2 any any",
                  "GEORADIUS nokey 15 37 200 km", "GEORADIUS_RO k 15 37 200 km WITHDIST",
                  "GEORADIUS_RO k 15 37 200 km COUNT 1 DESC WITHCOORD"],
    "georadius_errors": [SICILY, "GEORADIUS k 200 37 1 km", "GEORADIUS k 15 100 1 km",
                         "GEORADIUS k abc 37 1 km", "GEORADIUS k 15 abc 1 km",
                         "GEORADIUS k 15 37 abc km", "GEORADIUS k 15 37 -1 km",
                         "GEORADIUS k 15 37 1 yd", "GEORADIUS k abc 37 -1 yd",
                         "GEORADIUS k 15 37 -1 yd", "GEORADIUS k 200 37 abc yd foo",
                         "GEORADIUS k 15 37 1 km foo", "GEORADIUS k 15 37 1 km COUNT",
                         "GEORADIUS k 15 37 1 km COUNT 0", "GEORADIUS k 15 37 1 km COUNT -5",
                         "GEORADIUS k 15 37 1 km COUNT x", "GEORADIUS k 15 37 1 km COUNT x foo",
                         "GEORADIUS k 15 37 1 km foo COUNT x", "GEORADIUS k 15 37 1 km ANY",
                         "GEORADIUS k 15 37 1 km STORE", "GEORADIUS k 15 37 1 km STOREDIST",
                         "GEORADIUS k 15 37 1 km STORE d WITHDIST",
                         "GEORADIUS k 15 37 1 km WITHHASH STOREDIST d",
                         "GEORADIUS k 15 37 1 km WITHCOORD STORE d ANY",
                         "GEORADIUS k 15 37 1 km ANY STORE d",
                         "GEORADIUS_RO k 15 37 1 km STORE d", "GEORADIUS_RO k 15 37 1 km STOREDIST d",
                         "GEORADIUS k 15 37 1", "GEORADIUS k 15 37", "GEORADIUS_RO k 15 37 1 km foo",
                         "GEORADIUS nokey 200 37 1 km", "GEORADIUS nokey 15 37 1 km foo",
                         "GEORADIUS nokey 15 37 1 km WITHDIST STORE d",
                         "SET s v", "GEORADIUS s 200 37 1 km", "GEORADIUS s 15 37 1 km foo",
                         "GEORADIUS_RO s 15 37 1 km"],
    "georadius_store": [SICILY, MORE, "GEORADIUS k 15 37 200 km STORE d", "ZRANGE d 0 -1 WITHSCORES",
                        "GEORADIUS k 15 37 200 km STOREDIST d2", "ZRANGE d2 0 -1 WITHSCORES",
                        "GEORADIUS k 15 37 200 km STORE d3 STOREDIST d4", "EXISTS d3",
                        "ZRANGE d4 0 -1 WITHSCORES", "GEORADIUS k 15 37 200 km STOREDIST d5 STORE d6",
                        "EXISTS d5", "ZRANGE d6 0 -1 WITHSCORES",
                        "GEORADIUS k 15 37 200 mi STOREDIST d7 COUNT 1 DESC",
                        "ZRANGE d7 0 -1 WITHSCORES", "GEORADIUS k 15 37 1 m STORE d",
                        "EXISTS d", "GEORADIUS nokey 15 37 1 m STORE d2", "EXISTS d2",
                        "SET str v", "GEORADIUS k 15 37 200 km STORE str", "TYPE str",
                        "EXPIRE d7 100", "GEORADIUS k 15 37 200 km STORE d7", "TTL d7",
                        "GEORADIUS k 15 37 200 km STORE k", "ZRANGE k 0 -1"],
    # ----------------------------------------------------- GEORADIUSBYMEMBER
    "georadiusbymember": [SICILY, MORE, "GEORADIUSBYMEMBER k Palermo 200 km",
                          "GEORADIUSBYMEMBER k Palermo 200 km WITHDIST WITHCOORD WITHHASH",
                          "GEORADIUSBYMEMBER k Palermo 200 km COUNT 1 DESC",
                          "GEORADIUSBYMEMBER k Palermo 200 km COUNT 2 ANY",
                          "GEORADIUSBYMEMBER k Palermo 0 km WITHDIST",
                          "GEORADIUSBYMEMBER k Palermo 200 km STORE d", "ZRANGE d 0 -1 WITHSCORES",
                          "GEORADIUSBYMEMBER k Palermo 200 ft STOREDIST d",
                          "ZRANGE d 0 -1 WITHSCORES",
                          "GEORADIUSBYMEMBER_RO k Catania 100 mi WITHDIST ASC"],
    "georadiusbymember_errors": [SICILY, "GEORADIUSBYMEMBER k nosuch 1 km",
                                 "GEORADIUSBYMEMBER k nosuch x km", "GEORADIUSBYMEMBER k nosuch 1 km foo",
                                 "GEORADIUSBYMEMBER k Palermo x km", "GEORADIUSBYMEMBER k Palermo -1 km",
                                 "GEORADIUSBYMEMBER k Palermo 1 yd", "GEORADIUSBYMEMBER k Palermo x yd foo",
                                 "GEORADIUSBYMEMBER k Palermo 1 km foo",
                                 "GEORADIUSBYMEMBER k Palermo 1 km COUNT 0",
                                 "GEORADIUSBYMEMBER nokey x abc km withdist",
                                 "GEORADIUSBYMEMBER nokey x abc yd", "GEORADIUSBYMEMBER nokey x 1 km foo",
                                 "GEORADIUSBYMEMBER nokey x abc km withdist store",
                                 "GEORADIUSBYMEMBER nokey x abc km withdist store d",
                                 "GEORADIUSBYMEMBER nokey x abc km any",
                                 "GEORADIUSBYMEMBER nokey x 1 km store d",
                                 "GEORADIUSBYMEMBER_RO k Palermo 1 km STORE d",
                                 "GEORADIUSBYMEMBER_RO nokey x 1 km foo",
                                 "SET s v", "GEORADIUSBYMEMBER s x 1 km foo"],
    # ------------------------------------------------------------- GEOSEARCH
    "geosearch": [SICILY, MORE, "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km",
                  "GEOSEARCH k BYRADIUS 200 km FROMLONLAT 15 37 ASC",
                  "GEOSEARCH k FROMMEMBER Palermo BYRADIUS 200 km WITHDIST",
                  "GEOSEARCH k FROMMEMBER Palermo BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 400 400 km DESC WITHDIST",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 1000 100 km WITHDIST",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 100 1000 km WITHDIST",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 0 0 km", "GEOSEARCH k FROMMEMBER Paris BYBOX 0 0 m",
                  "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1",
                  "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 ANY",
                  "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km ANY COUNT 2 DESC",
                  "GEOSEARCH k FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 100 km WITHDIST",
                  "GEOSEARCH k FROMLONLAT 1 1 FROMLONLAT 15 37 BYRADIUS 100 km BYRADIUS 200 km",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 1 km BYBOX 400 400 km withdist",
                  "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 mi WITHDIST",
                  "GEOSEARCH k FROMLONLAT 15 37 BYBOX 300 300 FT WITHDIST",
                  "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km",
                  "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km"],
    "geosearch_errors": [SICILY, "GEOSEARCH k BYRADIUS 1 km ASC DESC",
                         "geosearch k byradius 1 km asc desc", "GeoSearch k fromlonlat 1 1 asc desc",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km ANY",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT 0",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT -1",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT x",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT 1 COUNT 0",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS -1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS x km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 yd",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX 1 -1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX -1 1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX x 1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX 1 y km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX -1 y km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX 1 1 yd",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km BYBOX 1 1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYBOX 1 1 km BYRADIUS 1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 FROMMEMBER Palermo BYRADIUS 1 km",
                         "GEOSEARCH k FROMMEMBER Palermo FROMLONLAT 1 2 BYRADIUS 1 km",
                         "GEOSEARCH k FROMLONLAT 200 2 BYRADIUS 1 km",
                         "GEOSEARCH k FROMLONLAT 1 200 BYRADIUS x km",
                         "GEOSEARCH k FROMLONLAT x 2 BYRADIUS 1 km",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km FROMLONLAT 200 1",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km STORE x",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km STOREDIST",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km foo",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT x foo",
                         "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1",
                         "GEOSEARCH k FROMMEMBER nosuch BYRADIUS 1 km",
                         "GEOSEARCH k FROMMEMBER nosuch BYRADIUS abc km",
                         "GEOSEARCH k FROMMEMBER nosuch BYRADIUS 1 km foo",
                         "GEOSEARCH k FROMMEMBER nosuch FROMMEMBER Palermo BYRADIUS 1 km",
                         "GEOSEARCH k FROMMEMBER Palermo FROMMEMBER nosuch BYRADIUS 1 km",
                         "GEOSEARCH k BYRADIUS abc km FROMMEMBER nosuch",
                         "GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km WITHDIST COUNT 0",
                         "GEOSEARCH nokey FROMMEMBER x BYRADIUS x km",
                         "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km foo",
                         "GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km asc desc",
                         "GEOSEARCH nokey BYRADIUS 1 km asc desc",
                         "GEOSEARCH nokey FROMMEMBER x asc desc",
                         "GEOSEARCH k FROMMEMBER x", "GEOSEARCH k", "SET s v",
                         "GEOSEARCH s FROMMEMBER x BYRADIUS 1 km foo",
                         "GEOSEARCH s FROMLONLAT 200 1 BYRADIUS 1 km"],
    "geosearchstore": [SICILY, MORE,
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km",
                       "ZRANGE d 0 -1 WITHSCORES",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
                       "ZRANGE d 0 -1 WITHSCORES",
                       "GEOSEARCHSTORE d k FROMMEMBER Palermo BYBOX 400 400 km COUNT 1 DESC STOREDIST",
                       "ZRANGE d 0 -1 WITHSCORES",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 ANY",
                       "ZRANGE d 0 -1 WITHSCORES",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 1 m", "EXISTS d",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST STOREDIST",
                       "GEOSEARCHSTORE d nokey FROMLONLAT 1 2 BYRADIUS 1 km", "EXISTS d",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD STOREDIST",
                       "GEOSEARCHSTORE d k BYRADIUS 1 km ASC DESC",
                       "GEOSEARCHSTORE d k FROMLONLAT 1 1 ASC DESC",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
                       "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 200 km ANY",
                       "SET s v", "GEOSEARCHSTORE d s FROMLONLAT 1 1 BYRADIUS 1 km",
                       "GEOSEARCHSTORE s k FROMLONLAT 15 37 BYRADIUS 200 km", "TYPE s",
                       "GEOSEARCHSTORE k k FROMMEMBER Palermo BYRADIUS 100 km",
                       "ZRANGE k 0 -1 WITHSCORES"],
    # --------------------------------------------------- poles, antimeridian
    "poles_antimeridian": [POLES, "GEOPOS p north south e180 w180 near_am_e near_am_w",
                           "GEOHASH p north south e180 w180 near_am_e near_am_w origin",
                           "GEODIST p north south km", "GEODIST p e180 w180",
                           "GEODIST p near_am_e near_am_w m",
                           "GEOSEARCH p FROMLONLAT 180 10 BYRADIUS 50 km WITHDIST ASC",
                           "GEOSEARCH p FROMLONLAT -180 10 BYRADIUS 50 km WITHDIST ASC",
                           "GEOSEARCH p FROMLONLAT 180 10 BYBOX 100 100 km WITHDIST ASC",
                           "GEOSEARCH p FROMLONLAT 179.99 0 BYBOX 1000 1000 km WITHCOORD ASC",
                           "GEOSEARCH p FROMLONLAT -179.99 0 BYBOX 1000 1000 km WITHCOORD ASC",
                           "GEOSEARCH p FROMLONLAT 0 85 BYRADIUS 100 km WITHDIST",
                           "GEOSEARCH p FROMLONLAT 0 -85 BYRADIUS 100 km WITHDIST",
                           "GEOSEARCH p FROMLONLAT 0 85.05112878 BYBOX 1000 1000 km WITHDIST",
                           "GEOSEARCH p FROMLONLAT 0 0 BYRADIUS 30000 km ASC WITHDIST",
                           "GEOSEARCH p FROMLONLAT 0 0 BYBOX 40000 40000 km ASC WITHDIST",
                           "GEORADIUS p 180 0 1 m WITHDIST", "GEORADIUS p -180 0 1 m WITHDIST",
                           "GEORADIUS p 0 -85.05112878 10 km WITHCOORD"],
    "big_skiplist": ["CONFIG SET zset-max-listpack-entries 0", SICILY, MORE,
                     "OBJECT ENCODING k", "GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 300 km WITHDIST ASC",
                     "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 300 km", "OBJECT ENCODING d",
                     "CONFIG SET zset-max-listpack-entries 128",
                     "GEOSEARCHSTORE d k FROMLONLAT 15 37 BYRADIUS 300 km", "OBJECT ENCODING d"],
    "short_options": [SICILY, "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS x",
                      "GEOSEARCH k FROMLONLAT 1 2 BYBOX x 1", "GEOSEARCH k FROMLONLAT x 2",
                      "GEOSEARCH k FROMLONLAT 1 x BYRADIUS 1 km", "GEORADIUS k 1 2 1 km COUNT 1 STORE",
                      "GEORADIUS k 1 2 1 km STORE d STORE", "GEOSEARCH k FROMMEMBER",
                      "GEOSEARCH k FROMLONLAT 1 2 BYRADIUS 1 km COUNT 1 ANY ANY"],
    "ties_and_extremes": ["GEOADD k 1 1 a 1 1 b 1 1 c 1 1 d 1 1 e 2 2 f 1 1 g 1 1 h",
                          "GEORADIUS k 1 1 500 km COUNT 3", "GEORADIUS k 1 1 500 km COUNT 3 DESC",
                          "GEORADIUS k 1 1 500 km COUNT 5 DESC", "GEORADIUS k 1 1 500 km ASC",
                          "GEORADIUS k 1 1 500 km DESC",
                          "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 500 km COUNT 2 WITHDIST",
                          "GEOSEARCH k FROMMEMBER a BYRADIUS 500 km COUNT 4 DESC WITHDIST",
                          "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 0 km",
                          "GEOSEARCH k FROMLONLAT 1 1 BYBOX 0 0 km WITHDIST",
                          "GEOSEARCH k FROMLONLAT -0 -0 BYRADIUS 500 KM WITHDIST",
                          "GEORADIUS k 1 1 1e10 km WITHDIST", "GEORADIUS k 1 1 inf km WITHDIST",
                          "GEORADIUS k 1 1 nan km WITHDIST",
                          "GEOSEARCH k FROMLONLAT 1 1 BYBOX inf inf km WITHDIST",
                          "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 1e-300 km WITHDIST",
                          "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 1 km COUNT 9223372036854775807",
                          "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 1 km COUNT 9223372036854775808"],
    "getkeys": ["COMMAND GETKEYS GEORADIUS k 1 1 1 km STORE d",
                "COMMAND GETKEYS GEORADIUS k 1 1 1 km STOREDIST d",
                "COMMAND GETKEYS GEORADIUSBYMEMBER k m 1 km STORE d",
                "COMMAND GETKEYS GEOSEARCHSTORE d k FROMLONLAT 1 1 BYRADIUS 1 km",
                "COMMAND GETKEYS GEOADD k 1 1 m", "COMMAND GETKEYS GEORADIUS_RO k 1 1 1 km",
                "COMMAND INFO GEORADIUS GEOSEARCH GEOADD", "COMMAND DOCS GEOSEARCH"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_geo_resp2(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_geo_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


# ------------------------------------------------------------ keyspace events

EVENT_SEQ = [SICILY, "GEOADD k 13.361389 38.115556 Palermo", "GEOADD k XX CH 1 1 Palermo",
             "GEOADD k NX 1 1 Palermo", "GEORADIUS k 1 1 200 km STORE d",
             "GEORADIUS k 1 1 200 km STOREDIST d2", "GEORADIUSBYMEMBER k Palermo 1 km STORE d3",
             "GEOSEARCHSTORE d4 k FROMLONLAT 1 1 BYRADIUS 1 km",
             "GEOSEARCHSTORE d4 k FROMLONLAT 1 1 BYRADIUS 1 m",
             "GEORADIUS k 50 50 1 m STORE d", "GEORADIUS nokey 1 1 1 m STORE d2",
             "GEOSEARCHSTORE d3 nokey FROMLONLAT 1 1 BYRADIUS 1 km",
             "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS 1 km", "GEOPOS k Palermo", "GEODIST k a b"]


def test_keyspace_events(keel, oracle):
    seq = cmds(*EVENT_SEQ)
    assert key_events(keel.port, seq) == key_events(oracle.port, seq)


def test_watch_sees_geoadd_and_store(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        a.call("FLUSHALL")
        for key, write in ((b"k", ["GEOADD", "k", "1", "1", "m"]),
                           (b"d", ["GEOSEARCHSTORE", "d", "k", "FROMLONLAT", "1", "1",
                                   "BYRADIUS", "10", "km"])):
            assert a.call("WATCH", key) == b"+OK\r\n"
            a.call("MULTI")
            a.call("PING")
            b.call(*write)
            assert a.call("EXEC") == b"*-1\r\n"


def _tracking_pushes(port):
    with RawConn(port) as a, RawConn(port) as b:
        b.call("FLUSHALL")
        b.call("GEOADD", "k", "1", "1", "m")
        out = [a.call("HELLO", "3")[:1], a.call("CLIENT", "TRACKING", "ON"),
               a.call("GEOPOS", "k", "m"), a.call("GEOSEARCH", "k", "FROMLONLAT", "1", "1",
                                                  "BYRADIUS", "1", "km")]
        b.call("GEOADD", "k", "2", "2", "n")
        out.append(a.read_reply())
        a.call("GEOHASH", "k", "m")
        b.call("GEOSEARCHSTORE", "k", "k", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km")
        out.append(a.read_reply())
        return out


def test_tracking_sees_geo_writes(keel, oracle):
    assert _tracking_pushes(keel.port) == _tracking_pushes(oracle.port)


# ----------------------------------------------------------------- randomized

UNITS = ["m", "km", "ft", "mi", "KM", "Mi"]


def _point(rnd, centre=None, spread=5.0):
    if centre is None or rnd.random() < 0.2:
        lon = rnd.uniform(-180, 180)
        lat = rnd.uniform(-85.05112878, 85.05112878)
    else:
        lon = max(-180.0, min(180.0, centre[0] + rnd.uniform(-spread, spread)))
        lat = max(-85.05112878, min(85.05112878, centre[1] + rnd.uniform(-spread, spread)))
    return "%.6f" % lon, "%.6f" % lat


def _random_search(rnd, names, centre):
    store = rnd.random() < 0.2
    cmd = ["GEOSEARCHSTORE", "dst", "g"] if store else ["GEOSEARCH", "g"]
    opts = []
    if rnd.random() < 0.3:
        opts.append(["FROMMEMBER", rnd.choice(names)])
    else:
        opts.append(["FROMLONLAT", *_point(rnd, centre, 3)])
    unit = rnd.choice(UNITS)
    scale = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit.lower()]
    size = rnd.choice([1e3, 5e4, 2e5, 6e5, 2e6, 8e6]) * rnd.random() / scale
    if rnd.random() < 0.5:
        opts.append(["BYRADIUS", "%.3f" % size, unit])
    else:
        opts.append(["BYBOX", "%.3f" % (size * rnd.uniform(0.2, 2)), "%.3f" % size, unit])
    if rnd.random() < 0.5:
        opts.append([rnd.choice(["ASC", "DESC"])])
    if rnd.random() < 0.4:
        opts.append(["COUNT", str(rnd.randint(1, 30))] + (["ANY"] if rnd.random() < 0.3 else []))
    if store:
        if rnd.random() < 0.5:
            opts.append(["STOREDIST"])
    else:
        for o in ("WITHCOORD", "WITHDIST", "WITHHASH"):
            if rnd.random() < 0.5:
                opts.append([o])
    rnd.shuffle(opts)
    for o in opts:
        cmd += o
    return cmd


def _random_radius(rnd, names, centre):
    unit = rnd.choice(UNITS)
    scale = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit.lower()]
    r = "%.3f" % (rnd.choice([1e3, 5e4, 2e5, 1e6, 5e6]) * rnd.random() / scale)
    ro = rnd.random() < 0.3
    if rnd.random() < 0.5:
        cmd = ["GEORADIUS_RO" if ro else "GEORADIUS", "g", *_point(rnd, centre, 3), r, unit]
    else:
        cmd = ["GEORADIUSBYMEMBER_RO" if ro else "GEORADIUSBYMEMBER", "g", rnd.choice(names), r, unit]
    store = not ro and rnd.random() < 0.2
    opts = []
    if store:
        opts.append([rnd.choice(["STORE", "STOREDIST"]), "dst"])
    else:
        for o in ("WITHCOORD", "WITHDIST", "WITHHASH"):
            if rnd.random() < 0.5:
                opts.append([o])
    if rnd.random() < 0.5:
        opts.append([rnd.choice(["ASC", "DESC"])])
    if rnd.random() < 0.4:
        opts.append(["COUNT", str(rnd.randint(1, 30))] + (["ANY"] if rnd.random() < 0.3 else []))
    rnd.shuffle(opts)
    for o in opts:
        cmd += o
    return cmd


@pytest.mark.parametrize("seed,npoints,skiplist", [(1, 60, False), (2, 400, True), (3, 120, False),
                                                    (4, 1500, True)])
def test_random_vs_oracle(diff, seed, npoints, skiplist):
    rnd = random.Random(seed)
    centre = (rnd.uniform(-170, 170), rnd.uniform(-80, 80))
    names = ["p%d" % i for i in range(npoints)]
    seq = []
    for i in range(0, npoints, 50):
        add = ["GEOADD", "g"]
        for n in names[i:i + 50]:
            add += [*_point(rnd, centre), n]
        seq.append(add)
    seq.append(["OBJECT", "ENCODING", "g"])
    for _ in range(150):
        seq.append(_random_search(rnd, names, centre) if rnd.random() < 0.6
                   else _random_radius(rnd, names, centre))
        if seq[-1][0] in ("GEOSEARCHSTORE",) or "STORE" in seq[-1] or "STOREDIST" in seq[-1]:
            seq.append(["ZRANGE", "dst", "0", "-1", "WITHSCORES"])
    a, b = rnd.sample(names, 2)
    seq += [["GEODIST", "g", a, b, rnd.choice(UNITS)], ["GEOHASH", "g"] + names[:20],
            ["GEOPOS", "g"] + names[:20]]
    if skiplist:
        seq = [["CONFIG", "SET", "zset-max-listpack-entries", "0"]] + seq + [
            ["CONFIG", "SET", "zset-max-listpack-entries", "128"]]
    diff(seq)
    if seed == 1:
        diff.resp3(seq)


def test_ties_vs_oracle(diff):
    """Many members at a few identical places: COUNT sorts partially (Redis's
    pqsort), a full sort is glibc's qsort; equal distances must come out in
    the same order."""
    rnd = random.Random(7)
    places = [("10.5", "20.5"), ("10.6", "20.5"), ("10.5", "20.6"), ("10.55", "20.55")]
    add = ["GEOADD", "t"]
    for i in range(300):
        add += [*rnd.choice(places), "m%03d" % i]
    seq = [add]
    for _ in range(60):
        n = str(rnd.choice([1, 2, 5, 7, 8, 40, 41, 100, 299, 300, 400]))
        order = rnd.choice(["ASC", "DESC"])
        if rnd.random() < 0.5:
            seq.append(["GEOSEARCH", "t", "FROMLONLAT", *rnd.choice(places), "BYRADIUS", "50", "km",
                        order, "COUNT", n, "WITHDIST"])
        else:
            seq.append(["GEORADIUS", "t", *rnd.choice(places), "40", "km", order, "COUNT", n])
    seq.append(["GEOSEARCH", "t", "FROMLONLAT", "10.5", "20.5", "BYBOX", "100", "100", "km", "ASC"])
    diff(seq)


# --------------------------------------------------------------- propagation

def test_aof_propagation(tmp_path):
    """GEOADD reaches the AOF as ZADD with the geohash scores; the STORE forms
    as sent; replaying the AOF gives the same data."""
    import harness
    from harness import ServerProcess, free_port

    d = str(tmp_path)

    def argv(port):
        return harness.keel_argv(port) + ["--dir", d, "--appendonly", "yes",
                                          "--appendfsync", "always"]

    srv = ServerProcess("keel-aof", argv)
    srv.start()
    try:
        with RawConn(srv.port) as c:
            c.call("GEOADD", "k", "nx", "13.361389", "38.115556", "Palermo", "15.087269",
                   "37.502669", "Catania")
            c.call("GEOADD", "k", "13.361389", "38.115556", "Palermo")  # no change
            c.call("GEORADIUS", "k", "15", "37", "200", "km", "STOREDIST", "d")
            c.call("GEOSEARCHSTORE", "e", "k", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
            before = [c.call("ZRANGE", x, "0", "-1", "WITHSCORES") for x in ("k", "d", "e")]
        aof = b""
        adir = os.path.join(d, "appendonlydir")
        for f in sorted(os.listdir(adir)):
            if ".incr." in f:
                with open(os.path.join(adir, f), "rb") as fh:
                    aof += fh.read()
        assert b"$4\r\nzadd\r\n$1\r\nk\r\n$2\r\nnx\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo" in aof
        assert aof.count(b"zadd") == 1 and b"GEOADD" not in aof
        assert b"$9\r\nGEORADIUS\r\n" in aof and b"$14\r\nGEOSEARCHSTORE\r\n" in aof
    finally:
        srv.stop()
    srv2 = ServerProcess("keel-aof2", argv)
    srv2.start()
    try:
        with RawConn(srv2.port) as c:
            after = [c.call("ZRANGE", x, "0", "-1", "WITHSCORES") for x in ("k", "d", "e")]
        assert after == before
    finally:
        srv2.stop()
        srv2.cleanup()


# ---------------------------------------------------------------- HTTP smoke

def test_http_geoadd_smoke(kh):
    import json
    r = get(kh.http, "/GEOADD/hk/13.361389/38.115556/Palermo/15.087269/37.502669/Catania")
    assert r.status == 200 and json.loads(r.body) == {"GEOADD": 2}
    r = get(kh.http, "/GEODIST/hk/Palermo/Catania/km")
    assert json.loads(r.body) == {"GEODIST": "166.2742"}
    r = get(kh.http, "/GEOSEARCH/hk/FROMLONLAT/15/37/BYRADIUS/200/km/ASC/WITHDIST")
    assert json.loads(r.body) == {"GEOSEARCH": [["Catania", "56.4413"], ["Palermo", "190.4424"]]}
    r = get(kh.http, "/GEOPOS/hk/Palermo")
    pos = json.loads(r.body)["GEOPOS"][0]
    assert abs(float(pos[0]) - 13.361389) < 1e-5 and abs(float(pos[1]) - 38.115556) < 1e-5


def test_http_geo_vs_webdis(kh, webdis):
    """The same URLs on Keel's HTTP port and on webdis + redis-server 7.0:
    JSON, .raw and .txt bodies byte for byte (coordinates in Redis's text)."""
    kr, _ = same(kh, webdis,
                 "/GEOADD/hk/13.361389/38.115556/Palermo/15.087269/37.502669/Catania",
                 "/GEOPOS.raw/hk/Palermo/nosuch", "/GEOPOS.txt/hk/Catania",
                 "/GEODIST/hk/Palermo/Catania/km", "/GEOHASH/hk/Palermo/Catania",
                 "/GEOSEARCH/hk/FROMLONLAT/15/37/BYRADIUS/200/km/ASC",
                 "/GEOSEARCH.raw/hk/FROMLONLAT/15/37/BYRADIUS/200/km/ASC/WITHDIST/WITHCOORD",
                 "/GEORADIUS/hk/15/37/200/km/STORE/d", "/ZRANGE/d/0/-1/WITHSCORES",
                 "/GEOADD/hk/200/100/x", "/GEOSEARCH/hk/BYRADIUS/1/km/ASC/DESC")
    # Nested arrays: webdis shows them as null (a webdis defect Keel fixes,
    # see test_http_webdis.py), so Keel's JSON is checked on its own.
    r = get(kh.http, "/GEOPOS/hk/Palermo/nosuch")
    assert r.body == b'{"GEOPOS":[["13.36138933897018433","38.11555639549629859"],null]}'
    r = get(kh.http, "/GEOSEARCH/hk/FROMLONLAT/15/37/BYRADIUS/100/km/WITHDIST/WITHHASH/WITHCOORD")
    assert r.body == (b'{"GEOSEARCH":[["Catania","56.4413",3479447370796909,'
                      b'["15.08726745843887329","37.50266842333162032"]]]}')
